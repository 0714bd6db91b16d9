"""The DynamoDB store's table: the dynamodb:// URL, the client, creating and checking the table, and AWS errors
as one-line StoreErrors naming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from callscope.errors import first_line
from callscope.store.base import StoreError
from callscope.store.dynamodb_items import PROJECTED
from callscope.store.dynamodb_keys import GSI

_OPTIONS = ("region", "endpoint_url", "create")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "LimitExceededException"}
_DENIED = {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
           "ExpiredTokenException", "MissingAuthenticationTokenException"}
CREATE_HINT = "create it with ?create=1 on the URL, or see docs/STORE.md"


@dataclass(frozen=True)
class TableUrl:
    table: str
    region: str | None
    endpoint_url: str | None
    create: bool

    @property
    def location(self) -> str:
        return f"dynamodb://{self.table}"


def parse_url(url: str) -> TableUrl:
    """dynamodb://TABLE[?region=R][&endpoint_url=URL][&create=1]."""
    parts = urlsplit(url)
    table, where = parts.netloc, f"dynamodb://{parts.netloc}"
    if parts.scheme != "dynamodb" or not _TABLE_NAME.fullmatch(table) or parts.path not in ("", "/"):
        raise StoreError(f"{url}: not dynamodb://TABLE (3-255 letters, digits, '_', '-', '.')"
                         "[?region=R&endpoint_url=URL&create=1]")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise StoreError(f"{where}: unknown option {unknown[0]!r} (known: {', '.join(_OPTIONS)})")
    create = options.get("create", "0").lower()
    if create not in ("", "0", "1", "true", "false", "yes", "no"):
        raise StoreError(f"{where}: create={create!r} is not 1 or 0")
    return TableUrl(table, options.get("region") or None, options.get("endpoint_url") or None,
                    create in ("1", "true", "yes"))


def make_client(url: TableUrl) -> Any:
    """A DynamoDB client; the endpoint is the URL's, else botocore's own AWS_ENDPOINT_URL_DYNAMODB / config."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise StoreError(f"{url.location}: the DynamoDB store needs boto3: pip install 'callscope[aws]'") from None
    session = boto3.session.Session()
    region = url.region or session.region_name
    if not region:
        raise StoreError(f"{url.location}: no AWS region: add ?region=REGION to the URL or set AWS_DEFAULT_REGION")
    # Standard retries back off on throttling and 5xx; a search or a load is not worth an endless wait.
    config = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=30)
    return session.client("dynamodb", region_name=region, endpoint_url=url.endpoint_url, config=config)


@contextmanager
def aws_errors(location: str, region: str) -> Iterator[None]:
    """Turns botocore's errors into one-line StoreErrors naming the table."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        yield
    except ClientError as error:
        raise StoreError(f"{location}: {_client_error(error, region)}") from None
    except NoCredentialsError:
        raise StoreError(f"{location}: no AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY)") from None
    except EndpointConnectionError as error:
        raise StoreError(f"{location}: cannot reach DynamoDB at {error.kwargs.get('endpoint_url')}") from None
    except BotoCoreError as error:
        raise StoreError(f"{location}: {first_line(error)}") from None


def _client_error(error: Any, region: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    message = first_line(Exception(error.response.get("Error", {}).get("Message", "") or code))
    attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    if code in _THROTTLED:
        return (f"throttled by DynamoDB ({code}) after {attempts + 1} attempts; try again later or raise the "
                "table's capacity")
    if code in _DENIED:
        return f"access denied ({code}): {message}"
    if code == "ResourceNotFoundException":
        return f"no such table in {region} ({CREATE_HINT})"
    return f"{code}: {message}" if code else message


def table_attributes() -> dict[str, Any]:
    """CreateTable's arguments (less the name): on demand, keys PK/SK, GSI1 with the filterable attributes."""
    return {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"}
                                 for name in ("PK", "SK", "GSI1PK", "GSI1SK")],
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": GSI,
            "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                          {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
            # Only what filter expressions need: transcripts and summaries stay out of the index's storage.
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(PROJECTED)},
        }],
    }


def create_table(client: Any, table: str) -> None:
    """Creates the store's table (see docs/STORE.md) and waits until it is active."""
    client.create_table(TableName=table, **table_attributes())
    _wait_until_active(client, table)


def _wait_until_active(client: Any, table: str) -> None:
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 150})


def check_table(client: Any, url: TableUrl) -> None:
    """The table exists (created when the URL says create=1) and has the store's keys; StoreError otherwise."""
    region = client.meta.region_name
    with aws_errors(url.location, region):
        try:
            description = client.describe_table(TableName=url.table)["Table"]
        except client.exceptions.ResourceNotFoundException:
            if not url.create:
                raise  # aws_errors says: no such table in <region> (CREATE_HINT)
            try:
                create_table(client, url.table)
            except client.exceptions.ResourceInUseException:  # another process is creating it too
                _wait_until_active(client, url.table)
            return
    keys = {key["AttributeName"] for key in description.get("KeySchema", [])}
    indexes = {index["IndexName"] for index in description.get("GlobalSecondaryIndexes", [])}
    if keys != {"PK", "SK"} or GSI not in indexes:
        raise StoreError(f"{url.location}: not a callscope store table (it needs keys PK, SK and the index {GSI})")
