"""A webhook: the notice as a JSON POST to an http(s) URL.

A 5xx answer, a 429, a refused connection or a timeout is tried again (RETRIES more times, the wait
doubling from BACKOFF_S); another 4xx is final. $CALLSCOPE_WEBHOOK_AUTHORIZATION, when set, is sent
as the Authorization header. The URL's path and query often hold the hook's secret: messages name
the host only.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from callscope import __version__
from callscope.notify.message import Notice
from callscope.notify.notifier import BadTarget, NotifyError, split_url

AUTHORIZATION_ENV = "CALLSCOPE_WEBHOOK_AUTHORIZATION"
TIMEOUT_S = 10.0
RETRIES = 2
BACKOFF_S = 0.5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body: report it instead of following."""

    def redirect_request(self, *_args, **_kwargs):
        return None


@dataclass(frozen=True)
class WebhookNotifier:
    url: str
    timeout: float = TIMEOUT_S
    retries: int = RETRIES
    backoff: float = BACKOFF_S
    authorization: str = field(default="", repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    @property
    def target(self) -> str:
        parts = urlsplit(self.url)
        host = parts.netloc.rpartition("@")[2]
        return f"{parts.scheme}://{host}" + ("/…" if parts.path.strip("/") or parts.query else "")

    def request(self, notice: Notice) -> urllib.request.Request:
        body = json.dumps(notice.as_json(), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": f"callscope/{__version__}"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def send(self, notice: Notice) -> str:
        request = self.request(notice)
        opener = urllib.request.build_opener(_NoRedirect)
        attempts = self.retries + 1
        problem = ""
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff * 2 ** (attempt - 2))
            try:
                with opener.open(request, timeout=self.timeout) as answer:
                    return f"HTTP {answer.status}" + (f" after {attempt} attempts" if attempt > 1 else "")
            except urllib.error.HTTPError as error:
                error.close()
                problem = f"HTTP {error.code} {error.reason}"
                if not (error.code >= 500 or error.code == 429):
                    raise NotifyError(problem) from None
            except urllib.error.URLError as error:
                problem = _reason(error.reason)
            except (OSError, http.client.HTTPException) as error:  # a reset, timeout, bad answer
                problem = _reason(error)
        raise NotifyError(f"{problem} (after {attempts} attempt{'s' if attempts != 1 else ''})")


def parse_webhook(text: str, environ: Mapping[str, str] | None = None) -> WebhookNotifier:
    parts = split_url(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadTarget(f"'{text[:80]}' is not an http(s) URL with a host")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise BadTarget(f"{parts.scheme}://{parts.hostname}: the port is not a number from 1 to 65535") from None
    return WebhookNotifier(text, authorization=(environ or {}).get(AUTHORIZATION_ENV, ""))


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return " ".join(str(reason).split()) or type(reason).__name__
