"""Notify targets: the Notifier protocol, parsing `--notify TARGET`, and sending to each in turn.

    smtp://[user@]host[:port]?to=a@x,b@y&from=r@x[&starttls=1]   e-mail (smtps:// for TLS from the start)
    sns:arn:aws:sns:REGION:ACCOUNT:TOPIC  (or the bare ARN)      Amazon SNS
    http(s)://host/path                                          a JSON POST (webhook)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Outcome:
    target: str
    ok: bool
    detail: str  # what was done, or why it failed


def parse_target(text: str, environ: Mapping[str, str] | None = None) -> Notifier:
    """A Notifier for a `--notify` value; BadTarget says what is wrong with it."""
    environ = os.environ if environ is None else environ
    value = text.strip()
    lowered = value.lower()
    if lowered.startswith(("smtp://", "smtps://")):
        from callscope.notify.smtp import parse_smtp

        return parse_smtp(value, environ)
    if lowered.startswith(("sns:", "arn:")):
        from callscope.notify.sns import parse_sns

        return parse_sns(value)
    if lowered.startswith(("http://", "https://")):
        from callscope.notify.webhook import parse_webhook

        return parse_webhook(value, environ)
    raise BadTarget(f"'{_shown(value)}' is not a notify target: use smtp://[user@]host[:port]?to=..., "
                    "sns:arn:aws:sns:REGION:ACCOUNT:TOPIC, or an http(s):// webhook URL")


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
        raise BadTarget(f"{_shown(scheme)}://{_shown(host)}: not a valid URL ({reason}){hint}") from None


def notify_all(notifiers: Sequence[Notifier], notice: Notice,
               on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Send to every notifier; one failing does not stop the others."""
    outcomes = []
    for notifier in notifiers:
        try:
            outcome = Outcome(notifier.target, True, notifier.send(notice))
        except NotifyError as error:
            outcome = Outcome(notifier.target, False, str(error))
        except Exception as error:  # noqa: BLE001 - a library's surprise must not cost the other targets
            outcome = Outcome(notifier.target, False, f"{type(error).__name__}: {_one_line(str(error))}")
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _shown(value: str) -> str:
    return _one_line(value)[:80]
