"""Notify targets: parsing `--notify TARGET` into a Notifier (notifier.py), and sending to each in turn.

    smtp://[user@]host[:port]?to=a@x,b@y&from=r@x[&starttls=1]   e-mail (smtps:// for TLS from the start)
    sns:arn:aws:sns:REGION:ACCOUNT:TOPIC  (or the bare ARN)      Amazon SNS
    http(s)://host/path                                          a JSON POST (webhook)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from callscope.notify.message import Notice
from callscope.notify.notifier import BadTarget, Notifier, NotifyError, one_line, shown


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
    raise BadTarget(f"'{shown(value)}' is not a notify target: use smtp://[user@]host[:port]?to=..., "
                    "sns:arn:aws:sns:REGION:ACCOUNT:TOPIC, or an http(s):// webhook URL")


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
            outcome = Outcome(notifier.target, False, f"{type(error).__name__}: {one_line(str(error))}")
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes
