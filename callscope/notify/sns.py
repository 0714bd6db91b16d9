"""Amazon SNS: `sns:arn:aws:sns:REGION:ACCOUNT:TOPIC` or the bare ARN. The notice's subject and body
are published to the topic (its e-mail, SQS, Lambda, chat subscribers get them); the client is
boto3's, in the topic's region, with the usual credentials (AWS_ENDPOINT_URL_SNS is honoured)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from callscope.errors import first_line
from callscope.notify.message import Notice
from callscope.notify.notifier import BadTarget, NotifyError

_ARN = re.compile(r"arn:(aws[a-z-]*):sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)")
SUBJECT_MAX = 100  # SNS: at most 100 characters, no line breaks
MESSAGE_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class SnsNotifier:
    topic_arn: str
    region: str
    client: Any = None  # a boto3 SNS client; made on first send when None

    @property
    def target(self) -> str:
        return f"sns:{self.topic_arn}"

    def publish_arguments(self, notice: Notice) -> dict[str, Any]:
        subject = " ".join(notice.subject.split())
        if len(subject) > SUBJECT_MAX:
            subject = subject[:SUBJECT_MAX - 3] + "..."
        message = _truncate(notice.body, MESSAGE_MAX_BYTES - 1024)  # room for attributes
        arguments: dict[str, Any] = {"TopicArn": self.topic_arn, "Subject": subject, "Message": message}
        if self.topic_arn.endswith(".fifo"):
            arguments["MessageGroupId"] = "callscope-reports"
            arguments["MessageDeduplicationId"] = hashlib.sha256(message.encode()).hexdigest()[:128]
        return arguments

    def send(self, notice: Notice) -> str:
        try:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise NotifyError("SNS needs boto3: pip install 'callscope[aws]'") from None
        try:
            client = self.client or boto3.client("sns", region_name=self.region)
            answer = client.publish(**self.publish_arguments(notice))
        except (BotoCoreError, ClientError) as error:
            raise NotifyError(first_line(error)) from None
        return f"message {answer.get('MessageId', '?')}"


def parse_sns(text: str, client: Any = None) -> SnsNotifier:
    arn = text[len("sns:"):] if text.lower().startswith("sns:") else text
    match = _ARN.fullmatch(arn.strip())
    if not match:
        raise BadTarget(f"'{text}' is not an SNS topic ARN (sns:arn:aws:sns:REGION:ACCOUNT:TOPIC)")
    return SnsNotifier(match[0], match[2], client)


def _truncate(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 40].decode("utf-8", "ignore") + "\n... (cut: see the report)\n"
