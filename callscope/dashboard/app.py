"""The dashboard's ASGI application: `create_app(store, data_dir)`.

The store is used only from the event loop's thread (every handler that touches it is `async`): a
SQLite connection belongs to the thread that opened it, and `callscope serve` opens the store in the
thread that runs the loop. Reading documents and rendering call pages run in worker threads.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callscope import __version__
from callscope.dashboard import api, pages
from callscope.dashboard.documents import DataPlaces
from callscope.dashboard.guids import CallPaths
from callscope.insights import LLMBackend
from callscope.store.base import Store

LOG = logging.getLogger("callscope.dashboard")
STATIC = Path(__file__).parent / "static"

# Pages load scripts, styles and media from this server only: no CDN, and inline script never runs,
# so even text that escaped escaping could not execute.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                                 b"frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(store: Store, data_dir: str | Path, *, bases: tuple[Path, ...] = (),
               audio_dirs: tuple[Path, ...] = (), allowed_hosts: list[str] | None = None,
               asker: LLMBackend | None = None) -> FastAPI:
    """The dashboard over store; files are read only from inside data_dir.

    bases: where a relative CallRecord.path may start, tried before data_dir (callscope serve passes
    the working directory and the store file's folder). allowed_hosts: the Host headers answered
    (None: any); loopback names only when serving on loopback keeps DNS-rebinding pages out.
    audio_dirs: folders of recordings, served as audio only (a call's recording found by its path or name).
    asker: the LLM backend that answers questions about a call (None: the call page has no question box).
    """
    app = FastAPI(title="callscope dashboard", version=__version__,
                  description="Stored calls (`callscope load`) and their PCA documents: the list with filters, one "
                              "call, its document and its recording. No authentication: bind to loopback.",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.places = DataPlaces.of(Path(data_dir), *bases, audio_dirs=audio_dirs)
    app.state.asker = asker
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
        titles = {404: "Not found", 405: "Method not allowed"}
        return pages.error_page(error.status_code, titles.get(error.status_code, "Error"),
                                str(error.detail) if error.status_code != 404 or request.url.path.startswith("/calls/")
                                else "There is no page here.")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in error.errors())
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return pages.error_page(422, "Bad request", problems)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        LOG.exception("unexpected error on %s", request.url.path)
        message = f"The dashboard failed on this request ({type(error).__name__}); the server's log has the details."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=500)
        return pages.error_page(500, "Internal error", message)

    app.add_middleware(CallPaths)  # a GUID with a "/" in it stays one segment of its call's URLs
    app.add_middleware(SecurityHeaders)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") and request.url.path != "/api/docs"
