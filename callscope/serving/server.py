"""SageMaker's inference contract over the standard library's threading HTTP server.

`GET /ping` is 200 once the model is loaded (503 before); `POST /invocations` takes JSON or raw
audio and answers JSON. Every error is one JSON line, `{"error": "..."}`: 400 for a bad request,
500 otherwise; tracebacks go to stderr only. One log line per request goes to stderr (CloudWatch).

Hostile or broken clients cost one line at most: a connection silent for `read_timeout_s` is closed
(408 when it stopped mid-body), a body shorter than its Content-Length is refused undecoded, and a
client gone before its reply is noted without a traceback.

uvicorn (the dashboard's server) was weighed for this and not taken: it times out only idle keep-alive
connections, not a request's headers or body (checked with uvicorn 0.55), so stalled clients would be
held for ever, and it has no body limit either.
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from callscope.errors import CallscopeError, InputError, first_line
from callscope.serving.inputs import ATTRIBUTES_HEADER, Invocation, RequestError, S3Fetcher, read_invocation


class Model(Protocol):
    name: str
    fields: frozenset[str]  # request parameters it understands; others are refused

    def invoke(self, invocation: Invocation) -> dict[str, Any]: ...


# InvokeEndpoint's payload limit for a real-time endpoint; an asynchronous endpoint takes up to 1 GB
# (from S3), so calls go to the asynchronous one by default (docs/AWS.md).
REALTIME_MAX_BODY_BYTES = 6 * 2**20


@dataclass(frozen=True)
class ServerConfig:
    host: str = "0.0.0.0"  # all interfaces: SageMaker connects from outside the container
    port: int = 8080
    max_body_bytes: int = 200 * 2**20  # larger calls go by S3 URI
    read_timeout_s: float = 60.0  # a client silent this long mid-request (or idle between requests) is dropped
    realtime: bool = False  # behind a real-time endpoint: bodies over InvokeEndpoint's limit are refused
    # Invocations run at once (the endpoint's MaxConcurrentInvocationsPerInstance); others wait their turn.
    concurrency: int = 1

    @property
    def body_limit(self) -> int:
        return min(self.max_body_bytes, REALTIME_MAX_BODY_BYTES) if self.realtime else self.max_body_bytes

    def body_too_large(self, length: int) -> str:
        if self.realtime and length > REALTIME_MAX_BODY_BYTES:
            return (f"request body of {length} bytes is over the {REALTIME_MAX_BODY_BYTES // 2**20} MB a real-time "
                    "endpoint takes (InvokeEndpoint's limit): use the asynchronous endpoint, or pass an S3 URI")
        return f"request body over {self.max_body_bytes} bytes: pass an S3 URI"


def log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}\n")
    sys.stderr.flush()


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck request must not keep the process alive at shutdown

    def __init__(self, config: ServerConfig) -> None:
        super().__init__((config.host, config.port), _Handler)
        self.config = config
        self.model: Model | None = None
        self.fetcher = S3Fetcher()
        # `concurrency` inferences at a time (default one: each already uses every core); /ping stays
        # answered meanwhile. More overlap one request's decoding and I/O with another's model time
        # (docs/BENCHMARKS.md, "Serving concurrency").
        self.inference = threading.BoundedSemaphore(config.concurrency)
        self._running = 0
        self._running_lock = threading.Lock()
        self.load_failed = False

    @contextmanager
    def inference_slot(self) -> Iterator[int]:
        """Wait for a free slot; yields how many invocations run now, this one included."""
        with self.inference:
            with self._running_lock:
                self._running += 1
                running = self._running
            try:
                yield running
            finally:
                with self._running_lock:
                    self._running -= 1

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # reset or closed by the client: nobody is left to answer
            log(f"{client_address[0]}:{client_address[1]} closed the connection ({type(error).__name__})")
            return
        super().handle_error(request, client_address)  # a bug: its traceback goes to stderr

    def load(self, loader: Callable[[], Model]) -> None:
        """Load the model (in a thread, so /ping answers 503 meanwhile); stop the server if it fails."""
        started = time.monotonic()
        try:
            self.model = loader()
        except Exception as error:  # any failure to load leaves nothing to serve
            log(f"model failed to load: {first_line(error)}")
            self.load_failed = True
            threading.Thread(target=self.shutdown, daemon=True).start()
            return
        log(f"model {self.model.name} loaded in {time.monotonic() - started:.1f} s")


def serve(config: ServerConfig, loader: Callable[[], Model]) -> int:
    """Listen at once, load the model, serve until SIGTERM/SIGINT; the exit status."""
    server = ModelServer(config)
    log(f"listening on {config.host}:{server.server_address[1]}")

    def stop(signum, frame):  # as PID 1 in a container, SIGTERM is ignored unless handled
        log(f"stopping ({signal.Signals(signum).name})")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=server.load, args=(loader,), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 1 if server.load_failed else 0


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.1"  # keep-alive: SageMaker reuses connections
    server_version = "callscope"

    def setup(self) -> None:
        self.timeout = self.server.config.read_timeout_s  # StreamRequestHandler sets it on the socket
        super().setup()

    def handle_one_request(self) -> None:
        self.requestline = ""  # set again once a request line arrives: a time-out before it is an idle connection
        super().handle_one_request()

    def do_GET(self) -> None:
        if self.path != "/ping":
            self._reply(404, {"error": f"no such path: {self.path[:100]}"})
        elif self.server.model is None:
            self._reply(503, {"status": "loading"})
        else:
            self._reply(200, {"status": "ok", "model": self.server.model.name})

    def do_POST(self) -> None:
        started = time.monotonic()
        self.at_once = 0  # set by an invocation that runs: how many ran when it started
        try:
            status, payload = self._invoke()
        except ConnectionError:  # the client left mid-request: ModelServer.handle_error notes it
            raise
        except Exception as error:  # the last guard: one line out, the traceback to the log only
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, {"error": f"internal error: {first_line(error)}"}
        self._reply(status, payload, time.monotonic() - started)

    def _invoke(self) -> tuple[int, dict[str, Any]]:
        if self.path.split("?")[0] != "/invocations":
            self._discard_body()
            return 404, {"error": f"no such path: {self.path[:100]}"}
        model = self.server.model
        if model is None:
            self._discard_body()
            return 503, {"error": "model is still loading"}
        with tempfile.TemporaryDirectory(prefix="callscope-") as workdir:
            invocation: Invocation | None = None
            try:
                body = self._read_body()
                invocation = read_invocation(
                    body, self.headers.get("Content-Type", ""), self.headers.get(ATTRIBUTES_HEADER, ""),
                    Path(workdir), self.server.fetcher)
                unknown = sorted(set(invocation.parameters) - model.fields)
                if unknown and self.headers.get_content_type() == "application/json":
                    raise RequestError(f"unknown field '{unknown[0]}' (known: {', '.join(sorted(model.fields))})")
                with self.server.inference_slot() as self.at_once:
                    return 200, model.invoke(invocation)
            except RequestError as error:
                return error.status, {"error": first_line(error)}
            except InputError as error:  # the decoder's message names a temp file: name the source
                source = invocation.source if invocation else "audio"
                return 400, {"error": f"{source}: {error.problem.strip().splitlines()[0]}"}
            except CallscopeError as error:
                return 500, {"error": first_line(error)}

    def _read_body(self) -> bytes:
        """The whole body, or RequestError (and the connection closes: what is left of it is unreadable)."""
        length = self.headers.get("Content-Length", "")
        config = self.server.config
        problem = None
        if not length.isdigit():
            problem = RequestError("Content-Length header required", status=411)
        elif int(length) > config.body_limit:  # the body is left unread
            problem = RequestError(config.body_too_large(int(length)), status=413)
        else:
            try:
                body = self.rfile.read(int(length))
            except TimeoutError:
                problem = RequestError(
                    f"request body stalled: nothing received for {self.server.config.read_timeout_s:g} s", status=408)
            else:
                if len(body) == int(length):
                    return body
                # The client closed its side early: what came is not the request it meant to send.
                problem = RequestError(f"request body cut short: {len(body)} of {length} bytes (Content-Length)")
        self.close_connection = True
        raise problem

    def _discard_body(self) -> None:
        try:
            self._read_body()
        except RequestError:
            pass  # the connection closes instead

    def _reply(self, status: int, payload: dict[str, Any], seconds: float | None = None) -> None:
        # Logged before the answer goes out, so a client holding it can rely on the line being there.
        path = getattr(self, "path", "")  # unset on a malformed request line
        if path != "/ping" or status != 200:  # health checks every few seconds would drown the log
            took = f" {seconds * 1000:.0f} ms" if seconds is not None else ""
            error = f": {payload['error']}" if "error" in payload else ""
            at_once = getattr(self, "at_once", 0)
            alongside = f" ({at_once} at once)" if at_once > 1 else ""
            log(f"{self.command or '-'} {path[:100] or '-'} {status}{took}{alongside}{error}")
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)  # a client gone by now raises ConnectionError: ModelServer.handle_error notes it

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed requests and unsupported methods: JSON like every other answer, not an HTML page.
        self.close_connection = True
        self._reply(code, {"error": message or self.responses.get(code, ("error",))[0]})

    def log_request(self, code="-", size="-") -> None:
        pass  # _reply writes the one line per request

    def log_error(self, format: str, *args) -> None:
        if format.startswith("Request timed out"):  # the standard library's time-out before do_GET/do_POST
            if self.requestline:  # a request began, then its headers stalled
                log(f"{self.requestline[:100]}: headers stalled, nothing received for "
                    f"{self.server.config.read_timeout_s:g} s: connection closed")
            return  # an idle keep-alive connection (or one that never spoke) closes quietly
        log(format % args)

    def log_message(self, format: str, *args) -> None:
        log(format % args)
