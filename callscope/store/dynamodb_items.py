"""A stored call as DynamoDB items (low-level attribute values), and back; the compressed transcript.

One call is one item collection under PK CALL#<guid>: the call item (SK CALL, also its CALLS entry in GSI1),
one small index item per other GSI1 partition it is listed in, and, for a transcript too big to sit in the
call item, transcript chunk items.
"""

from __future__ import annotations

import gzip
import math
import uuid
from dataclasses import astuple
from datetime import datetime
from decimal import Decimal
from typing import Any

from callscope.store import dynamodb_keys as keys
from callscope.store.base import CallRecord, TalkFigures
from callscope.store.records import StoredCall

Item = dict[str, dict[str, Any]]

# An item is 400 KB at most, names and keys included: a compressed transcript up to INLINE_TEXT_BYTES sits in
# the call item, a longer one (some 1.5 MB of plain text, tens of hours of speech) goes to chunk items.
INLINE_TEXT_BYTES = 300_000
CHUNK_BYTES = 350_000
# The attributes every GSI1 entry carries (the index projects them): filters on them run as FilterExpression.
PROJECTED = ("ag", "lang", "cs", "chg")
# The talk figures (TalkFigures, in this order); absent on calls stored before they were kept.
TALK_FIELDS = ("atk", "ctk", "ntk", "intr", "aintr", "intrs")
# The call item's attributes; the transcript ones are read only by text search and transcript().
FIELDS = ("guid", "file", "t", "dur", "lang", "ag", "cust", "as", "cs", "chg", "cats", "ents", "sum", "acts",
          "red", "path", *TALK_FIELDS)
TEXT_FIELDS = ("tx", "txn", "ver")
VERSION = "ver"  # a new value each put: a writer replaces the call only if it is still the version it read


def items_for(stored: StoredCall) -> tuple[Item, list[Item]]:
    """The call item and the call's other items (index items, transcript chunks)."""
    record = stored.record
    pk, sk = keys.call_pk(record.guid), keys.sort_key(record)
    listed = _projected(record)
    call: Item = {"PK": _s(pk), "SK": _s(keys.CALL_SK), "GSI1PK": _s(keys.ALL_CALLS), "GSI1SK": _s(sk),
                  "guid": _s(record.guid), "file": _s(record.file), "t": _s(keys.time_key(record.conversation_time)),
                  "dur": number(record.duration) or {"N": "0"}, "cust": _s(record.customer),
                  "cats": {"L": [_s(name) for name in record.categories]},
                  "ents": {"M": {kind: {"L": [_s(v) for v in values]} for kind, values in record.entities.items()}},
                  "sum": _s(record.summary), "acts": {"L": [_s(text) for text in record.action_items]},
                  "red": {"BOOL": record.redacted}, "path": _s(record.path), **listed,
                  VERSION: _s(uuid.uuid4().hex)}
    agent_sentiment = number(record.agent_sentiment)
    if agent_sentiment:
        call["as"] = agent_sentiment
    if record.talk:
        call.update({name: number(value) or {"N": "0"} for name, value in zip(TALK_FIELDS, astuple(record.talk))})
    others: list[Item] = [{"PK": _s(pk), "SK": _s(keys.INDEX_SK_PREFIX + partition), "GSI1PK": _s(partition),
                           "GSI1SK": _s(sk), **listed} for partition in keys.index_partitions(record)]
    text = gzip.compress(stored.transcript.encode(), mtime=0)
    if len(text) <= INLINE_TEXT_BYTES:
        call["tx"] = {"B": text}
    else:  # chunks keyed by the version: new ones never overwrite those a reader may be joining
        chunks = [text[start:start + CHUNK_BYTES] for start in range(0, len(text), CHUNK_BYTES)]
        call["txn"] = {"N": str(len(chunks))}
        others += [{"PK": _s(pk), "SK": _s(chunk_sk(call[VERSION]["S"], index)), "b": {"B": chunk}}
                   for index, chunk in enumerate(chunks)]
    return call, others


def chunk_sk(version: str, index: int) -> str:
    return f"{chunk_prefix(version)}{index:05d}"


def chunk_prefix(version: str) -> str:
    """The sort keys of one version's transcript chunks begin with this."""
    return f"{keys.TEXT_SK_PREFIX}{version}#"


def _projected(record: CallRecord) -> Item:
    listed: Item = {"ag": _s(record.agent), "lang": _s(record.language)}
    for name, value in (("cs", record.customer_sentiment), ("chg", record.customer_sentiment_change)):
        stored = number(value)
        if stored:  # absent, not NULL: a filter on it is then false, as SQL's comparisons with NULL
            listed[name] = stored
    return listed


def record_of(item: Item) -> CallRecord:
    time = item["t"]["S"]
    return CallRecord(
        guid=item["guid"]["S"], file=item["file"]["S"],
        conversation_time=datetime.fromisoformat(time) if time else None,
        duration=float(item["dur"]["N"]), language=item["lang"]["S"], agent=item["ag"]["S"],
        customer=item["cust"]["S"], agent_sentiment=_float(item.get("as")), customer_sentiment=_float(item.get("cs")),
        customer_sentiment_change=_float(item.get("chg")),
        categories=tuple(value["S"] for value in item["cats"]["L"]),
        entities={kind: tuple(v["S"] for v in values["L"]) for kind, values in item["ents"]["M"].items()},
        summary=item["sum"]["S"], action_items=tuple(value["S"] for value in item["acts"]["L"]),
        redacted=item["red"]["BOOL"], path=item["path"]["S"], talk=_talk(item))


def _talk(item: Item) -> TalkFigures | None:
    if not all(name in item for name in TALK_FIELDS):
        return None
    agent, customer, non_talk, interruptions, by_agent, overlap = (float(item[name]["N"]) for name in TALK_FIELDS)
    return TalkFigures(agent, customer, non_talk, int(interruptions), int(by_agent), overlap)


def inline_text(item: Item) -> str | None:
    """The transcript kept in the call item; None when it is in chunks (see chunked_text)."""
    return _gunzip(_bytes(item["tx"]["B"])) if "tx" in item else None


def chunked_text(item: Item) -> tuple[str, int] | None:
    """(version, chunk count) of a transcript kept in chunk items."""
    return (item[VERSION]["S"], int(item["txn"]["N"])) if "txn" in item else None


def join_chunks(chunks: list[bytes]) -> str:
    return _gunzip(b"".join(chunks))


def _gunzip(data: bytes) -> str:
    return gzip.decompress(data).decode()


def _bytes(value: Any) -> bytes:
    return bytes(value)  # botocore gives bytes; stay safe with bytearray/memoryview


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def number(value: float | None) -> dict[str, str] | None:
    """A DynamoDB number, or None for a value DynamoDB cannot hold (missing, NaN, infinite)."""
    if value is None or not math.isfinite(value):
        return None
    if abs(value) < 1e-100:  # DynamoDB's smallest magnitude is 1E-130; a score that small is 0
        value = 0.0
    return {"N": str(Decimal(repr(float(value))))}


def _float(value: dict[str, str] | None) -> float | None:
    return float(value["N"]) if value and "N" in value else None
