"""Telling people about a report: e-mail (SMTP), Amazon SNS and webhooks behind one Notifier protocol."""

from callscope.notify.message import DEFAULT_LISTED, Notice, NoticeCall, build_notice
from callscope.notify.notifier import BadTarget, Notifier, NotifyError
from callscope.notify.targets import Outcome, notify_all, parse_target

__all__ = ["DEFAULT_LISTED", "BadTarget", "Notice", "NoticeCall", "Notifier", "NotifyError", "Outcome",
           "build_notice", "notify_all", "parse_target"]
