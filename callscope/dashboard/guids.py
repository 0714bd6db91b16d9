"""A call's GUID in a URL path: one segment, whatever characters it holds ("team/2025/call-1", "100% sure").

Links carry the GUID percent-encoded (a "/" as %2F), but the server decodes the path before routing, so
"/calls/team%2Fcall-1" would reach the router as "/calls/team/call-1" and match no route (or the wrong
one: a call "a/audio" would be the recording of a call "a"). CallPaths routes call URLs on the path as
sent instead, with each segment decoded except "/" and "%" (kept as %2F and %25); CallGuid decodes those.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Path
from starlette.types import ASGIApp, Receive, Scope, Send

CALL_PREFIXES = ("/calls/", "/api/calls/")


def _keep_separators(segment: str) -> str:
    return segment.replace("%", "%25").replace("/", "%2F")


def routing_path(scope: Scope) -> str:
    """The request's path with every segment decoded but for "/" and "%" inside it."""
    raw = scope.get("raw_path")
    if raw is None:  # a server that keeps no raw path: the slashes are lost, the percent signs need not be
        return scope["path"].replace("%", "%25")
    sent = raw.decode("latin-1").partition("?")[0]
    return "/".join(_keep_separators(unquote(segment)) for segment in sent.split("/"))


class CallPaths:
    """ASGI middleware: call URLs are routed on routing_path()."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CALL_PREFIXES):
            scope = {**scope, "path": routing_path(scope)}
        await self.app(scope, receive, send)


def _call_guid(guid: Annotated[str, Path(description="the call's GUID, percent-encoded (a / as %2F)")]) -> str:
    return unquote(guid)


CallGuid = Annotated[str, Depends(_call_guid)]
