"""What every notify target is: the Notifier protocol, its errors, and URL splitting that never shows a secret."""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

from callscope.errors import CallscopeError, first_line
from callscope.notify.message import Notice


class NotifyError(CallscopeError):
    """A notice could not be delivered (one line; the caller names the target)."""


class BadTarget(CallscopeError):
    """A `--notify` value that is no target, or an incomplete one."""


class Notifier(Protocol):
    target: str  # how messages name it: never a password or a webhook URL's secret path

    def send(self, notice: Notice) -> str:
        """Deliver the notice; a short note of what was done ("2 recipients"); NotifyError if it failed."""
        ...


def split_url(text: str) -> SplitResult:
    """urlsplit, or BadTarget when it cannot split the URL; the message never shows a password or a path."""
    try:
        return urlsplit(text)
    except ValueError as error:  # an unclosed or bad [IPv6] host, characters no host can hold
        scheme, _, rest = text.partition("://")
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
        user, _, host = netloc.rpartition("@")
        reason = first_line(error).replace(netloc, host) if user else first_line(error)
        hint = ": an IPv6 host goes in closed brackets, as [::1]" if "[" in host else ""
        raise BadTarget(f"{shown(scheme)}://{shown(host)}: not a valid URL ({reason}){hint}") from None


def one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def shown(value: str) -> str:
    return one_line(value)[:80]
