"""E-mail through an SMTP server: smtp://[user@]host[:port]?to=a@x,b@y&from=r@x[&starttls=1].

smtps:// speaks TLS from the first byte (port 465). The password comes from $CALLSCOPE_SMTP_PASSWORD,
never from the target (it would show in `ps` and in logs). A user without TLS is refused unless the
server is on this machine: the password would cross the network in clear.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from callscope.notify.message import Notice
from callscope.notify.notifier import BadTarget, NotifyError, split_url

PASSWORD_ENV = "CALLSCOPE_SMTP_PASSWORD"
TIMEOUT_S = 30.0
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SmtpNotifier:
    host: str
    port: int
    recipients: tuple[str, ...]
    sender: str
    starttls: bool = False
    implicit_tls: bool = False  # smtps://
    user: str = ""
    password: str = ""
    timeout: float = TIMEOUT_S

    @property
    def target(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.user + '@' if self.user else ''}{self.host}:{self.port}"

    def message(self, notice: Notice) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = notice.subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(notice.body)
        return message

    def send(self, notice: Notice) -> str:
        context = ssl.create_default_context()
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=context)
                if self.user:
                    client.login(self.user, self.password)
                refused = client.send_message(self.message(notice), from_addr=self.sender,
                                              to_addrs=list(self.recipients))
        except smtplib.SMTPException as error:  # refused, not supported (STARTTLS, AUTH), disconnected
            raise NotifyError(f"SMTP: {_text(error)}") from None
        except OSError as error:  # connection refused, timeout, TLS handshake or certificate
            raise NotifyError(f"{self.host}:{self.port}: {_text(error)}") from None
        delivered = len(self.recipients) - len(refused)
        return f"{delivered} recipient{'s' if delivered != 1 else ''}" + (
            f", refused: {', '.join(sorted(refused))}" if refused else "")


def parse_smtp(text: str, environ: Mapping[str, str]) -> SmtpNotifier:
    parts = split_url(text)
    implicit_tls = parts.scheme.lower() == "smtps"
    if not parts.hostname:
        raise BadTarget(f"{_redacted(text)}: no SMTP host (smtp://[user@]host[:port]?to=...)")
    if parts.password is not None:
        raise BadTarget(f"{_redacted(text)}: put the SMTP password in ${PASSWORD_ENV}, not in the target")
    try:
        port = parts.port or (465 if implicit_tls else 25)
    except ValueError:
        raise BadTarget(f"{_redacted(text)}: the port is not a number from 1 to 65535") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"to", "from", "starttls"})
    if unknown:
        raise BadTarget(f"{_redacted(text)}: unknown parameter {', '.join(unknown)} (to, from, starttls)")
    recipients = tuple(address.strip() for value in query.get("to", []) for address in value.split(",")
                       if address.strip())
    if not recipients:
        raise BadTarget(f"{_redacted(text)}: no recipients (?to=a@example.com,b@example.com)")
    for address in recipients:
        _check_address(text, address)
    user = unquote(parts.username or "")
    sender = (query.get("from") or [""])[-1].strip() or (user if "@" in user else "")
    if not sender:
        raise BadTarget(f"{_redacted(text)}: no sender (&from=reports@example.com)")
    _check_address(text, sender)
    starttls_value = (query.get("starttls") or ["0"])[-1].strip().lower()
    if starttls_value not in _TRUE | _FALSE:
        raise BadTarget(f"{_redacted(text)}: starttls={starttls_value} is not 1 or 0")
    starttls = starttls_value in _TRUE
    if implicit_tls and starttls:
        raise BadTarget(f"{_redacted(text)}: smtps:// is TLS already; drop starttls=1")
    password = ""
    if user:
        password = environ.get(PASSWORD_ENV, "")
        if not password:
            raise BadTarget(f"{_redacted(text)}: a user is given but ${PASSWORD_ENV} is not set")
        if not (starttls or implicit_tls) and parts.hostname.lower() not in _LOOPBACK:
            raise BadTarget(f"{_redacted(text)}: a password is sent only over TLS: add starttls=1 or use smtps://")
    return SmtpNotifier(parts.hostname, port, recipients, sender, starttls, implicit_tls, user, password)


def _check_address(text: str, address: str) -> None:
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() or c in "<>,;" for c in address):
        raise BadTarget(f"{_redacted(text)}: '{address}' is not an e-mail address")


def _redacted(text: str) -> str:
    parts = urlsplit(text)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # without the user


def _text(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        message = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        return f"{error.smtp_code} {' '.join(message.split())}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"every recipient refused: {', '.join(sorted(error.recipients))}"
    return " ".join(str(error).split()) or type(error).__name__
