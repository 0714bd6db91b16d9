"""The DynamoDB store's keys: which index partitions a call is listed in, which one a search reads, the
sort-key range it reads, and the continuation token.

Every call is listed in GSI1 under several partition keys (CALLS for all calls, AGENT#ChrisL, LANG#en-US,
CAT#billing, ENT#LOCATION#paris, ...), always with the sort key "<conversation time>#<guid>", so one Query with
ScanIndexForward=False lists the calls of a partition newest first, and a position in that order (the token)
means the same in every partition.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from callscope.store.base import CallRecord, SearchQuery, StoreError

GSI = "GSI1"
CALL_SK = "CALL"  # sorts before every other item's SK (IDX#..., TEXT#...): "SK > CALL" skips the call item
ALL_CALLS = "CALLS"  # the call item's own GSI1 partition: every call, by time
INDEX_SK_PREFIX = "IDX#"  # an index item's table sort key: IDX#<its GSI1PK>
TEXT_SK_PREFIX = "TEXT#"  # transcript chunks of a call too big for one item: TEXT#<version>#<n>
NO_TIME = ""  # a call without a conversation time: "#<guid>" sorts below every digit, so last when descending
_FIRST_TIME = "0"  # at or below every real time key ("0001-..."), above every "#<guid>": until excludes no-time calls
_MAX_KEY_BYTES = 900  # GSI1PK also sits in the table's sort key (1,024 bytes at most, with "IDX#")
MAX_GUID_BYTES = 900  # "<time>#<guid>" is a GSI sort key (1,024 bytes at most)


def call_pk(guid: str) -> str:
    return f"CALL#{guid}"


def guid_of(pk: str) -> str:
    return pk.removeprefix("CALL#")


def time_key(moment: datetime | None) -> str:
    # The SQLite store's format: fixed width, so text order is time order.
    return moment.isoformat(sep=" ", timespec="microseconds") if moment else NO_TIME


def sort_key(record: CallRecord) -> str:
    return f"{time_key(record.conversation_time)}#{record.guid}"


def _bounded(key: str) -> str:
    """A partition key within DynamoDB's key size: long values (an entity that is a paragraph) are hashed; every
    candidate is checked against its call item, so a collision could never show a wrong call."""
    if len(key.encode()) <= _MAX_KEY_BYTES:
        return key
    return f"{key[:200]}#sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def agent_partition(agent: str) -> str:
    return _bounded(f"AGENT#{agent}")


def language_partition(language: str) -> str:
    return _bounded(f"LANG#{language}")


def category_partition(name: str) -> str:
    return _bounded(f"CAT#{name}")


def entity_partition(kind: str, value: str) -> str:
    return _bounded(f"ENT#{kind}#{value.lower()}")


def entity_value_partition(value: str) -> str:
    return _bounded(f"ENTV#{value.lower()}")


def entity_type_partition(kind: str) -> str:
    return _bounded(f"ENTT#{kind}")


def trend_partition(direction: str) -> str:
    return f"TREND#{direction}"


def index_partitions(record: CallRecord) -> list[str]:
    """The GSI1 partitions of a call's index items (its call item is the ALL_CALLS entry)."""
    keys: list[str] = []
    if record.agent:
        keys.append(agent_partition(record.agent))
    if record.language:
        keys.append(language_partition(record.language))
    change = record.customer_sentiment_change
    if change is not None and change != 0:
        keys.append(trend_partition("improving" if change > 0 else "worsening"))
    keys += [category_partition(name) for name in record.categories]
    for kind, values in record.entities.items():
        if values:
            keys.append(entity_type_partition(kind))
        for value in values:
            keys += [entity_partition(kind, value), entity_value_partition(value)]
    return list(dict.fromkeys(keys))  # one item per partition: (GSI1PK, GSI1SK) stays unique


def partition_for(query: SearchQuery) -> tuple[str, str]:
    """The partition a search reads, and which filter it serves ("" for ALL_CALLS).

    No statistics are kept, so the order is a rule of thumb: an entity value names few calls, a category or an
    agent more, a language or a sentiment direction a large share, and text has no index at all.
    """
    if query.entity_value and query.entity_type:
        return entity_partition(query.entity_type.upper(), query.entity_value), "entity"
    if query.entity_value:
        return entity_value_partition(query.entity_value), "entity"
    if query.category:
        return category_partition(query.category), "category"
    if query.agent:
        return agent_partition(query.agent), "agent"
    if query.entity_type:
        return entity_type_partition(query.entity_type.upper()), "entity"
    if query.language:
        return language_partition(query.language), "language"
    if query.sentiment_change:
        return trend_partition(query.sentiment_change), "sentiment_change"
    return ALL_CALLS, ""


@dataclass(frozen=True)
class SortRange:
    """GSI1SK bounds, both inclusive; `after` (the token's key) is at the upper bound and already listed."""

    lower: str | None
    upper: str | None
    after: str | None

    @property
    def empty(self) -> bool:
        return self.lower is not None and self.upper is not None and self.lower > self.upper

    def condition(self) -> tuple[str, dict[str, dict[str, str]]]:
        """The sort key's part of a KeyConditionExpression (names #sk) and its values."""
        if self.lower is not None and self.upper is not None:
            return " AND #sk BETWEEN :lo AND :hi", {":lo": {"S": self.lower}, ":hi": {"S": self.upper}}
        if self.lower is not None:
            return " AND #sk >= :lo", {":lo": {"S": self.lower}}
        if self.upper is not None:
            return " AND #sk <= :hi", {":hi": {"S": self.upper}}
        return "", {}


def sort_range(query: SearchQuery, after: str | None) -> SortRange:
    # until is exclusive but no key equals a bare time (keys end in "#<guid>"), so it can be an inclusive bound.
    lower = time_key(query.since) if query.since else (_FIRST_TIME if query.until else None)
    uppers = [key for key in (time_key(query.until) if query.until else None, after) if key is not None]
    return SortRange(lower, min(uppers) if uppers else None, after)


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(["d1", key]).encode()).decode()


def decode_token(token: str) -> str:
    """The sort key of the last call of the previous page."""
    try:
        version, key = json.loads(base64.urlsafe_b64decode(token.encode()))
        if version == "d1" and isinstance(key, str) and "#" in key:
            return key
    except (ValueError, TypeError):
        pass
    raise StoreError(f"continuation token {token!r} is not one this store gave")
