"""Notices of `callscope report negative`: target parsing, the message, and each notifier against a real
server on loopback (aiosmtpd for SMTP, moto for SNS with an SQS subscriber, http.server for webhooks),
checking what callscope sends; then the command with a failing target among working ones."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import ssl
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.notify import BadTarget, NotifyError, build_notice, notify_all, parse_target
from callscope.notify.smtp import SmtpNotifier
from callscope.notify.sns import SnsNotifier
from callscope.notify.webhook import WebhookNotifier
from callscope.reports import NegativeCallsCriteria, find_negative_calls
from callscope.reports.publish import PublishedReport
from callscope.store import SqliteStore
from tests.test_report_negative import REGION, aws, fill, free_port, loaded_store, moto_endpoint, negative_document  # noqa: F401 - fixtures

SINCE = datetime(2025, 2, 19, 6, 0)


@pytest.fixture
def report(tmp_path):
    """Seven calls below -1 since 06:00 (and two that are not), from a real store."""
    documents = [negative_document(f"n{index}", SINCE + timedelta(minutes=10 * index), -1.5 - index / 4,
                                   agent="ChrisL" if index % 2 else "Ann",
                                   summary=f"Customer upset about fee {index}.\nDetails follow.")
                 for index in range(7)]
    documents += [negative_document("fine", SINCE + timedelta(hours=2), 1.0),
                  negative_document("earlier", SINCE - timedelta(minutes=1), -4.0)]
    with SqliteStore(tmp_path / "s.db") as store:
        fill(store, documents)
        return find_negative_calls(store, NegativeCallsCriteria(threshold=-1.0, since=SINCE),
                                   link_base="https://dash.example.com")


PUBLISHED = PublishedReport("s3://reports/negative-calls-2025-02-20.csv",
                            "https://reports.s3.amazonaws.com/negative-calls-2025-02-20.csv?X-Amz-Signature=abc",
                            datetime(2025, 2, 27, 6, 0, tzinfo=dt.timezone.utc))


def test_the_notice(report):
    notice = build_notice(report, PUBLISHED, listed=3)
    assert notice.subject == "callscope: 7 negative calls since 2025-02-19 06:00"
    lines = notice.body.splitlines()
    assert lines[:3] == ["7 calls with customer sentiment below -1 since 2025-02-19 06:00.",
                         f"Report: {PUBLISHED.link}", "(the link works until 2025-02-27 06:00 UTC)"]
    assert lines[4:10] == [
        "2025-02-19 07:00  Ann  customer -3.00  Customer upset about fee 6.", "    https://dash.example.com/calls/n6",
        "2025-02-19 06:50  ChrisL  customer -2.75  Customer upset about fee 5.",
        "    https://dash.example.com/calls/n5",
        "2025-02-19 06:40  Ann  customer -2.50  Customer upset about fee 4.", "    https://dash.example.com/calls/n4"]
    assert lines[-1] == "... and 4 more in the report."
    payload = notice.as_json()
    assert payload["count"] == 7 and payload["calls_listed"] == 3 and payload["threshold"] == -1.0
    assert payload["window"] == {"since": "2025-02-19 06:00:00", "until": None}
    assert payload["report"]["link"] == PUBLISHED.link
    assert payload["report"]["expires_at"] == "2025-02-27T06:00:00+00:00"
    assert payload["calls"][0] == {"guid": "n6", "conversation_time": "2025-02-19 07:00:00", "agent": "Ann",
                                   "customer_sentiment": -3.0, "agent_sentiment": 1.5,
                                   "summary": "Customer upset about fee 6.",
                                   "link": "https://dash.example.com/calls/n6"}
    one = replace(report, calls=report.calls[:1])
    assert build_notice(one, PUBLISHED).subject == "callscope: 1 negative call since 2025-02-19 06:00"
    empty = replace(report, calls=[], criteria=replace(report.criteria, until=SINCE + timedelta(days=1)))
    notice = build_notice(empty, PublishedReport("/r/x.csv", "/r/x.csv"))
    assert notice.subject == "callscope: no negative calls between 2025-02-19 06:00 and 2025-02-20 06:00"
    assert notice.body == ("No calls with customer sentiment below -1 between 2025-02-19 06:00 and 2025-02-20 06:00."
                           "\nReport: /r/x.csv\n")


# --- targets ---------------------------------------------------------------------------------------


def test_targets_parse():
    smtp = parse_target("smtp://mail.example.com?to=a@x.com,b@y.org&from=reports@x.com")
    assert smtp == SmtpNotifier("mail.example.com", 25, ("a@x.com", "b@y.org"), "reports@x.com")
    secure = parse_target("smtp://alerts%40x.com@mail.example.com:587?to=a@x.com&starttls=1",
                          {"CALLSCOPE_SMTP_PASSWORD": "s3cret"})
    assert (secure.user, secure.password, secure.sender, secure.port, secure.starttls) == (
        "alerts@x.com", "s3cret", "alerts@x.com", 587, True)
    assert "s3cret" not in secure.target and secure.target == "smtp://alerts@x.com@mail.example.com:587"
    assert parse_target("smtps://mail.example.com?to=a@x.com&from=r@x.com").port == 465
    arn = "arn:aws:sns:eu-west-1:123456789012:call-alerts"
    assert parse_target(f"sns:{arn}") == parse_target(arn) == SnsNotifier(arn, "eu-west-1")
    hook = parse_target("https://hooks.example.com/services/T0/B0/secret?x=1")
    assert isinstance(hook, WebhookNotifier) and hook.target == "https://hooks.example.com/…"
    assert parse_target("http://127.0.0.1:8080").target == "http://127.0.0.1:8080"


@pytest.mark.parametrize(("target", "message"), [
    ("mailto:a@x.com", "is not a notify target: use smtp://"),
    ("smtp://mail.example.com", "no recipients"),
    ("smtp://mail.example.com?to=a@x.com", "no sender"),
    ("smtp://mail.example.com?to=not-an-address&from=r@x.com", "'not-an-address' is not an e-mail address"),
    ("smtp://mail.example.com:99999?to=a@x.com&from=r@x.com", "port"),
    ("smtp://mail.example.com?to=a@x.com&from=r@x.com&starttls=maybe", "starttls=maybe is not 1 or 0"),
    ("smtp://mail.example.com?to=a@x.com&from=r@x.com&cc=b@x.com", "unknown parameter cc"),
    ("smtp://u:pw@mail.example.com?to=a@x.com&from=r@x.com", "CALLSCOPE_SMTP_PASSWORD, not in the target"),
    ("smtp://u@mail.example.com?to=a@x.com&from=r@x.com", "CALLSCOPE_SMTP_PASSWORD is not set"),
    ("smtps://mail.example.com?to=a@x.com&from=r@x.com&starttls=1", "TLS already"),
    ("sns:arn:aws:sqs:eu-west-1:123456789012:queue", "not an SNS topic ARN"),
    ("sns:call-alerts", "not an SNS topic ARN"),
    ("https://", "not an http(s) URL with a host"),
    ("http://hooks.example.com:http/x", "port"),
    ("http://[::1/x", "http://[::1: not a valid URL"),
    ("https://[hooks.example.com]/secret", "https://[hooks.example.com]: not a valid URL"),
    ("https://u:pw@hooks.example\uff03com/secret", "https://hooks.example\uff03com: not a valid URL"),
    ("smtp://[::1?to=a@x.com&from=r@x.com", "smtp://[::1: not a valid URL"),
])
def test_bad_targets_say_what_is_wrong(target, message):
    with pytest.raises(BadTarget, match=None) as caught:
        parse_target(target, {})
    assert message in str(caught.value)
    assert "pw" not in str(caught.value).replace("CALLSCOPE_SMTP_PASSWORD", "")  # a password is never echoed


def test_a_password_in_clear_goes_only_to_this_machine():
    environ = {"CALLSCOPE_SMTP_PASSWORD": "pw"}
    with pytest.raises(BadTarget, match="only over TLS"):
        parse_target("smtp://u@mail.example.com?to=a@x.com&from=r@x.com", environ)
    assert parse_target("smtp://u@127.0.0.1:2525?to=a@x.com&from=r@x.com", environ).password == "pw"


def test_one_failing_notifier_does_not_stop_the_others(report):
    class Broken:
        target = "broken://"

        def send(self, notice):
            raise RuntimeError("boom\nsecond line")

    class Fine:
        target = "fine://"
        sent = []

        def send(self, notice):
            self.sent.append(notice)
            return "ok"

    outcomes = notify_all([Broken(), Fine()], build_notice(report, PUBLISHED))
    assert [(o.target, o.ok, o.detail) for o in outcomes] == [("broken://", False, "RuntimeError: boom second line"),
                                                             ("fine://", True, "ok")]
    assert len(Fine.sent) == 1


# --- SMTP on aiosmtpd -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 / localhost: (cert file, key file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class Mailbox:
    """aiosmtpd handler: keeps each message with how its session went."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "tls": session.ssl is not None,
                              "login": session.auth_data.login if session.authenticated else None,
                              "message": email.message_from_bytes(envelope.content, policy=email.policy.default)})
        return "250 OK"


@pytest.fixture
def smtp_server(certificate):
    """An SMTP server on loopback that offers STARTTLS and AUTH (after STARTTLS only); password 'right'."""
    aiosmtpd = pytest.importorskip("aiosmtpd")  # noqa: F841 - in the dev extra
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, login):
        accepted = login.login == b"alerts" and login.password == b"right"
        return AuthResult(success=accepted, handled=False, auth_data=login)  # handled=False: a refusal answers 535

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            authenticator=authenticator, auth_require_tls=True)
    controller.start()
    yield controller.port, mailbox
    controller.stop()


def test_email_plain_by_default(report, smtp_server):
    port, mailbox = smtp_server
    notifier = parse_target(f"smtp://127.0.0.1:{port}?to=ops@x.com,lead@y.org&from=callscope@x.com", {})
    assert notifier.send(build_notice(report, PUBLISHED)) == "2 recipients"
    [received] = mailbox.messages
    assert received["from"] == "callscope@x.com" and received["to"] == ["ops@x.com", "lead@y.org"]
    assert received["tls"] is False and received["login"] is None  # STARTTLS offered, not used unless asked
    message = received["message"]
    # Python folds a subject with "06:00" in it whole onto the next line, and its parser keeps that
    # line's leading space: mail clients strip it.
    assert message["Subject"].strip() == "callscope: 7 negative calls since 2025-02-19 06:00"
    assert message["To"] == "ops@x.com, lead@y.org" and message["From"] == "callscope@x.com"
    body = message.get_content().replace("\r\n", "\n")
    assert body.startswith("7 calls with customer sentiment below -1 since 2025-02-19 06:00.\n")
    assert f"Report: {PUBLISHED.link}\n" in body and "https://dash.example.com/calls/n6" in body


def test_email_with_starttls_and_login(report, smtp_server, certificate, monkeypatch):
    port, mailbox = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate, as a CA bundle would
    target = f"smtp://alerts@127.0.0.1:{port}?to=ops@x.com&from=callscope@x.com&starttls=1"
    notifier = parse_target(target, {"CALLSCOPE_SMTP_PASSWORD": "right"})
    assert notifier.send(build_notice(report, PUBLISHED)) == "1 recipient"
    [received] = mailbox.messages
    assert received["tls"] is True and received["login"] == b"alerts"

    wrong = parse_target(target, {"CALLSCOPE_SMTP_PASSWORD": "wrong"})
    with pytest.raises(NotifyError, match=r"^SMTP: 535 .*") as caught:
        wrong.send(build_notice(report, PUBLISHED))
    assert "\n" not in str(caught.value) and len(mailbox.messages) == 1


def test_email_starttls_to_an_untrusted_certificate_fails_in_one_line(report, smtp_server, monkeypatch, tmp_path):
    port, mailbox = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    notifier = parse_target(f"smtp://127.0.0.1:{port}?to=ops@x.com&from=c@x.com&starttls=1", {})
    with pytest.raises(NotifyError, match=rf"^127\.0\.0\.1:{port}: .*CERTIFICATE_VERIFY_FAILED"):
        notifier.send(build_notice(report, PUBLISHED))
    assert mailbox.messages == []


# --- SNS on moto, read back through an SQS subscription -----------------------------------------------


def test_sns_publishes_subject_and_body(report, aws):
    import boto3

    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="call-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    notice = build_notice(report, PUBLISHED)
    assert parse_target(f"sns:{topic}").send(notice).startswith("message ")
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["TopicArn"] == topic and envelope["Subject"] == notice.subject
    assert envelope["Message"] == notice.body

    with pytest.raises(NotifyError, match="NotFound|does not exist"):
        parse_target(topic.replace("call-alerts", "no-such-topic")).send(notice)


def test_sns_subject_is_cut_to_what_sns_takes():
    notifier = SnsNotifier("arn:aws:sns:eu-west-1:123456789012:t.fifo", "eu-west-1")
    from callscope.notify.message import Notice

    notice = Notice("x" * 150 + "\nline", "body " * 100_000, 1, -1.0, None, None, "p", "p", None, ())
    arguments = notifier.publish_arguments(notice)
    assert len(arguments["Subject"]) == 100 and "\n" not in arguments["Subject"]
    assert len(arguments["Message"].encode()) < 256 * 1024 and arguments["Message"].endswith("see the report)\n")
    assert arguments["MessageGroupId"] and arguments["MessageDeduplicationId"]


# --- webhooks on http.server -------------------------------------------------------------------------


class Hook:
    """An HTTP server on loopback that records each request and answers with the next status of a script."""

    def __init__(self, statuses: list[int], delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "body": body})
                time.sleep(delay)
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False  # server_close waits for a late answer (the timeout test's)

            def handle_error(self, request, client_address):
                pass  # the client gave up (timeout): nothing to print into another test's output

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _quick(notifier: WebhookNotifier, sleeps: list[float]) -> WebhookNotifier:
    return replace(notifier, sleep=sleeps.append)


def test_webhook_posts_the_notice_as_json(report):
    with Hook([200]) as hook:
        notifier = parse_target(hook.url, {"CALLSCOPE_WEBHOOK_AUTHORIZATION": "Bearer t0k"})
        assert notifier.target == f"http://127.0.0.1:{hook.server.server_address[1]}/…"  # the secret path stays out
        assert notifier.send(build_notice(report, PUBLISHED, listed=2)) == "HTTP 200"
    [request] = hook.requests
    assert request["method"] == "POST" and request["path"] == "/hooks/T0/secret"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert request["headers"]["Authorization"] == "Bearer t0k"
    assert request["headers"]["User-Agent"].startswith("callscope/")
    payload = json.loads(request["body"])
    assert payload["event"] == "callscope.report.negative_calls"
    assert (payload["count"], payload["threshold"], payload["calls_listed"]) == (7, -1.0, 2)
    assert payload["window"] == {"since": "2025-02-19 06:00:00", "until": None}
    assert payload["report"] == {"location": PUBLISHED.location, "link": PUBLISHED.link,
                                 "expires_at": "2025-02-27T06:00:00+00:00"}
    assert [call["guid"] for call in payload["calls"]] == ["n6", "n5"]
    assert payload["subject"] == "callscope: 7 negative calls since 2025-02-19 06:00"
    assert payload["text"].startswith("7 calls with customer sentiment below -1")


def test_webhook_retries_a_5xx_then_succeeds(report):
    sleeps: list[float] = []
    with Hook([500, 200]) as hook:
        assert _quick(parse_target(hook.url), sleeps).send(build_notice(report, PUBLISHED)) == \
            "HTTP 200 after 2 attempts"
    assert len(hook.requests) == 2 and hook.requests[0]["body"] == hook.requests[1]["body"]
    assert sleeps == [0.5]


def test_webhook_gives_up_after_its_retries_and_not_on_a_4xx(report):
    sleeps: list[float] = []
    with Hook([503]) as hook:
        with pytest.raises(NotifyError, match=r"^HTTP 503 Service Unavailable \(after 3 attempts\)$"):
            _quick(parse_target(hook.url), sleeps).send(build_notice(report, PUBLISHED))
    assert len(hook.requests) == 3 and sleeps == [0.5, 1.0]
    with Hook([404]) as hook:
        with pytest.raises(NotifyError, match=r"^HTTP 404 Not Found$"):
            _quick(parse_target(hook.url), sleeps).send(build_notice(report, PUBLISHED))
    assert len(hook.requests) == 1


def test_webhook_timeout_and_unreachable(report):
    with Hook([200], delay=0.6) as hook:
        slow = replace(parse_target(hook.url), timeout=0.2, retries=1, sleep=lambda _s: None)
        with pytest.raises(NotifyError, match=r"^timed out \(after 2 attempts\)$"):
            slow.send(build_notice(report, PUBLISHED))
    unreachable = replace(parse_target(f"http://127.0.0.1:{free_port()}/x"), sleep=lambda _s: None)
    with pytest.raises(NotifyError, match=r"^Connection refused \(after 3 attempts\)$"):
        unreachable.send(build_notice(report, PUBLISHED))


# --- the command --------------------------------------------------------------------------------------


def test_command_notifies_every_target_and_reports_a_failure(loaded_store, tmp_path, smtp_server):
    smtp_port, mailbox = smtp_server
    dead = f"http://127.0.0.1:{free_port()}/dead"
    out = tmp_path / "neg.csv"
    with Hook([200]) as hook:
        outcome = CliRunner().invoke(main, [
            "report", "negative", "--store", str(loaded_store), "--since", "2025-02-19T00:00", "--until",
            "2025-02-20T00:00", "--out", str(out), "--link-base", "https://dash.example.com",
            "--notify", dead, "--notify", f"smtp://127.0.0.1:{smtp_port}?to=ops@x.com&from=c@x.com",
            "--notify", hook.url])
    assert outcome.exit_code == 1, outcome.output
    assert out.read_bytes().count(b"\r\n") == 3  # the CSV is kept
    failed = [line for line in outcome.output.splitlines() if line.startswith("notify failed")]
    port = dead.split(":")[2].split("/")[0]
    assert failed == [f"notify failed: http://127.0.0.1:{port}/…: Connection refused (after 3 attempts)"]
    assert f"notified smtp://127.0.0.1:{smtp_port}: 1 recipient" in outcome.output
    assert "notified http://127.0.0.1:" in outcome.output and "Traceback" not in outcome.output
    [mail] = mailbox.messages
    subject = "callscope: 2 negative calls between 2025-02-19 00:00 and 2025-02-20 00:00"
    assert mail["message"]["Subject"].strip() == subject
    assert "https://dash.example.com/calls/worse" in mail["message"].get_content()
    payload = json.loads(hook.requests[0]["body"])
    assert payload["count"] == 2 and payload["report"]["link"] == str(out.resolve())


def test_command_notifies_an_empty_report_only_when_asked(loaded_store, tmp_path):
    args = ["report", "negative", "--store", str(loaded_store), "--since", "2025-03-01", "--out",
            str(tmp_path / "empty.csv")]
    with Hook([200]) as hook:
        quiet = CliRunner().invoke(main, [*args, "--notify", hook.url])
        assert quiet.exit_code == 0 and hook.requests == [] and "Nobody notified" in quiet.output
        loud = CliRunner().invoke(main, [*args, "--notify", hook.url, "--notify-empty"])
        assert loud.exit_code == 0, loud.output
    [request] = hook.requests
    payload = json.loads(request["body"])
    assert payload["count"] == 0 and payload["calls"] == [] and payload["subject"].startswith(
        "callscope: no negative calls since 2025-03-01 00:00")


def test_command_refuses_a_bad_target_before_doing_anything(loaded_store, tmp_path):
    out = tmp_path / "never.csv"
    outcome = CliRunner().invoke(main, ["report", "negative", "--store", str(loaded_store), "--out", str(out),
                                        "--notify", "smtp://mail.example.com?to=ops@x.com"])
    assert outcome.exit_code == 2 and "no sender" in outcome.output and not out.exists()


@pytest.mark.parametrize("target", ["http://[::1/x", "smtp://[::1?to=ops@x.com&from=c@x.com"])
def test_command_refuses_an_unsplittable_url_in_one_line(loaded_store, tmp_path, target):
    out = tmp_path / "never.csv"
    outcome = CliRunner().invoke(main, ["report", "negative", "--store", str(loaded_store), "--out", str(out),
                                        "--notify", target])
    assert outcome.exit_code == 2, outcome.output
    errors = [line for line in outcome.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--notify" in errors[0] and "not a valid URL" in errors[0]
    assert "Traceback" not in outcome.output and not out.exists()


def test_command_sns_target(loaded_store, tmp_path, aws):
    import boto3

    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="cli-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="cli-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    outcome = CliRunner().invoke(main, ["report", "negative", "--store", str(loaded_store), "--since", "2025-02-19",
                                        "--until", "2025-02-20", "--out", str(tmp_path / "r.csv"), "--notify", topic])
    assert outcome.exit_code == 0, outcome.output
    assert f"notified sns:{topic}: message " in outcome.output
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == "callscope: 2 negative calls between 2025-02-19 00:00 and 2025-02-20 00:00"
    assert str((tmp_path / "r.csv").resolve()) in envelope["Message"]
    assert Path(tmp_path / "r.csv").exists()
