"""How the DynamoDB store applies a search's filters beyond the partition it reads.

Three layers: the partition (dynamodb_keys.partition_for) and the time range (the key condition) select index
entries; a FilterExpression on the attributes every GSI1 entry carries (agent, language, customer sentiment and
its change) drops entries before they cross the network; `matches` then checks every filter against the call
item itself. That last check serves categories, entities and text (no per-entry attribute holds them) and keeps
results right while GSI1 (eventually consistent) still lists a call that was just re-put differently.

Customer sentiment thresholds are filters, not an index: an index keyed by score would list calls in score
order, and a page in time order would then need every match read and sorted first.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from callscope.store.base import CallRecord, SearchQuery
from callscope.store.dynamodb_items import number
from callscope.store.dynamodb_keys import time_key

_WORD = re.compile(r"[^\W_]+")  # letters and digits, as SQLite FTS5's unicode61 tokenizer splits text


def filter_expression(query: SearchQuery, served: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """FilterExpression, its names and values for the filters the partition `served` does not cover."""
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def add(clause: str, name: str, value: dict[str, str] | None = None, tag: str = "") -> None:
        clauses.append(clause)
        names[f"#{name}"] = name
        if value is not None:
            values[f":{name}{tag}"] = value

    if query.agent and served != "agent":
        add("#ag = :ag", "ag", {"S": query.agent})
    if query.language and served != "language":
        add("#lang = :lang", "lang", {"S": query.language})
    below, above = _exact(query.customer_sentiment_below), _exact(query.customer_sentiment_above)
    if below:
        add("#cs < :csbelow", "cs", below, "below")
    if above:
        add("#cs > :csabove", "cs", above, "above")
    if query.sentiment_change and served != "sentiment_change":
        add(f"#chg {'>' if query.sentiment_change == 'improving' else '<'} :zero", "chg")
        values[":zero"] = {"N": "0"}
    return " AND ".join(clauses), names, values


def _exact(threshold: float | None) -> dict[str, str] | None:
    """The threshold as a DynamoDB number; None when there is none or DynamoDB cannot hold it exactly (NaN,
    infinite, below 1E-130): `matches` then applies it."""
    value = number(threshold)
    return value if value and threshold is not None and float(value["N"]) == threshold else None


def needs_call_items(query: SearchQuery, served: str) -> bool:
    """Whether some filter can only be checked on call items (count() then reads them)."""
    return bool(query.category and served != "category"
                or (query.entity_type or query.entity_value) and served != "entity"
                or query.text.strip()
                or any(bound is not None and _exact(bound) is None
                       for bound in (query.customer_sentiment_below, query.customer_sentiment_above)))


def matches(record: CallRecord, query: SearchQuery, transcript: str | None) -> bool:
    """Every filter of query, checked on a call item (the same rules as the SQLite store)."""
    moment = time_key(record.conversation_time)
    sentiment, change = record.customer_sentiment, record.customer_sentiment_change
    return all((
        not query.since or moment >= time_key(query.since),
        not query.until or "" < moment < time_key(query.until),
        not query.agent or record.agent == query.agent,
        not query.language or record.language == query.language,
        query.customer_sentiment_below is None or sentiment is not None and sentiment < query.customer_sentiment_below,
        query.customer_sentiment_above is None or sentiment is not None and sentiment > query.customer_sentiment_above,
        query.sentiment_change != "improving" or change is not None and change > 0,
        query.sentiment_change != "worsening" or change is not None and change < 0,
        not query.category or query.category in record.categories,
        _entity_matches(record, query),
        not query.text.strip() or transcript is not None and has_words(transcript, query.text),
    ))


def _entity_matches(record: CallRecord, query: SearchQuery) -> bool:
    if not (query.entity_type or query.entity_value):
        return True
    kinds = [query.entity_type.upper()] if query.entity_type else list(record.entities)
    wanted = query.entity_value.lower()
    return any(value.lower() == wanted if wanted else True
               for kind in kinds for value in record.entities.get(kind, ()))


def words(text: str) -> set[str]:
    """Case- and accent-folded words (as FTS5's unicode61 tokenizer sees them)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return set(_WORD.findall("".join(char for char in folded if not unicodedata.combining(char))))


def has_words(transcript: str, text: str) -> bool:
    wanted = words(text)
    return bool(wanted) and wanted <= words(transcript)
