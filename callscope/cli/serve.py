"""`callscope serve`: the web dashboard over the store (docs/DASHBOARD.md)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

import click

from callscope.cli.params import llm_options
from callscope.cli.store import open_store_or_fail, store_option
from callscope.errors import InsightBackendError
from callscope.insights.backends import KINDS
from callscope.store.loading import STATE_DIR
from callscope.store.opening import DYNAMODB_SCHEME

LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


def default_data_dir(location: str) -> Path:
    """The store file's folder; the current folder for a store that is no file (DynamoDB)."""
    if location.startswith(DYNAMODB_SCHEME):
        return Path.cwd()
    return Path(location).resolve().parent


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listening_socket(host: str, port: int) -> socket.socket:
    """The bound socket, or a one-line error saying the port is taken."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on such sockets, and without it every
        # keep-alive response waits ~40 ms for the delayed ACK of its headers (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(f"port {port} on {host} is taken (another server is listening there): "
                                       "choose another with --port") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


RESULTS_STORE = Path(STATE_DIR) / "dashboard.db"  # beside analyze's own state, skipped by `load`


@click.command()
@click.argument("results", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@store_option
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The only folder files are served from: the PCA JSONs and recordings (default: the store "
                   "file's folder; the current folder for DynamoDB).")
@click.option("--audio", "audio_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder of the recordings (when they are not under --data): only audio is served from it. "
                   "Repeatable.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. There is no authentication: keep loopback, or put a proxy in front.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--insights", "llm_backend", type=click.Choice(KINDS), default=None,
              help="An LLM backend that answers questions about a call on its page (docs/INSIGHTS_BACKENDS.md); "
                   "none: no question box.")
@llm_options
def serve(results: Path | None, store_location: str | None, data_dir: Path | None, audio_dirs: tuple[Path, ...],
          host: str, port: int, llm_backend: str | None, llm_model: str | None, llm_url: str | None,
          llm_region: str | None) -> None:
    """A local web dashboard over the store: an overview, the call list with filters, each call's page
    (with questions to an LLM when --insights names one), and a JSON API.

    With RESULTS (a folder of callscope analyze), its PCA JSONs are loaded first, into
    RESULTS/.callscope/dashboard.db unless --store says otherwise, and files are served from it:
    `callscope serve results/demo --audio examples/calls` after `make demo`.
    """
    try:
        import uvicorn

        from callscope.dashboard import create_app
    except ImportError as error:
        raise click.ClickException(f"callscope serve needs the dashboard extra (pip install 'callscope[dashboard]'): "
                                   f"{error}") from None

    asker = _asker(llm_backend, llm_model, llm_url, llm_region)
    if results is not None:
        store_location = store_location or str(results / RESULTS_STORE)
        (results / RESULTS_STORE).parent.mkdir(exist_ok=True)
        data_dir = data_dir or results
    with open_store_or_fail(store_location) as store:
        if results is not None:
            _load_results(store, results)
        data = (data_dir or default_data_dir(store.location)).resolve()
        if not data.is_dir():
            raise click.ClickException(f"--data {data}: no such folder")
        sock = listening_socket(host, port)
        bound = sock.getsockname()[1]
        # On loopback only loopback names are answered: a web page cannot reach the dashboard by
        # pointing its own domain at 127.0.0.1 (DNS rebinding).
        allowed = [*LOOPBACK_NAMES, host] if is_loopback(host) and ":" not in host else None
        app = create_app(store, data, bases=(Path.cwd(), default_data_dir(store.location)), audio_dirs=audio_dirs,
                         allowed_hosts=allowed, asker=asker)
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"callscope dashboard on http://{shown}:{bound}/ (store {store.location}, data {data}); "
                   "Ctrl-C stops it", err=False)
        if not is_loopback(host):
            click.echo(f"warning: listening on {host}, beyond this machine, with no authentication: anyone who "
                       "reaches it reads every call", err=True)
        # The store is used from this thread only: uvicorn runs the event loop here and the
        # dashboard touches the store from async handlers (a SQLite connection belongs to its thread).
        config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
        uvicorn.Server(config).run(sockets=[sock])


def _asker(kind: str | None, model: str | None, url: str | None, region: str | None):
    """The backend that answers questions about calls, or None; a one-line error for a bad setting."""
    if kind is None:
        if model or url or region:
            raise click.ClickException("--llm-model, --llm-url and --llm-region need --insights (openai, bedrock or "
                                       "llamacpp)")
        return None
    from callscope.insights.backends import make_backend

    try:
        return make_backend(kind, model=model, url=url, region=region)
    except InsightBackendError as error:
        raise click.ClickException(str(error)) from None


def _load_results(store, results: Path) -> None:
    from callscope.store.loading import load_directory

    report = load_directory(store, results, on_problem=lambda kind, line: click.echo(f"{kind}: {line}", err=True))
    click.echo(f"{report.loaded} calls loaded from {results}"
               + (f" ({len(report.failed)} failed, {len(report.skipped)} skipped)" if report.failed or report.skipped
                  else ""), err=True)  # stdout's first line stays the address
