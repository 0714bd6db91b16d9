"""The store's interface and the typed values that cross it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from callscope.errors import CallscopeError

SentimentDirection = Literal["improving", "worsening"]
DEFAULT_LIMIT = 50


class StoreError(CallscopeError):
    """The store cannot do what was asked (a bad continuation token, an unusable file)."""


class NotAPcaDocument(CallscopeError):
    """The JSON is not (or not enough of) a PCA output document to be stored."""


@dataclass(frozen=True)
class TalkFigures:
    """How the call's time was spent, from its PCA document (SpeakerTime, NonTalkTime, SegmentInterruption)."""

    agent_seconds: float  # the agent role's speech (SpeakerTime); two roles talking at once count for both
    customer_seconds: float
    non_talk_seconds: float  # NonTalkTime.TotalTimeSecs
    interruptions: int  # segments that start while another speaker is talking
    agent_interruptions: int  # of those, the agent's
    interruption_seconds: float  # how long interrupting segments overlapped the speech they cut into

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CallRecord:
    """One stored call: the fields people filter and list by, taken from its PCA document."""

    guid: str
    file: str  # the JSON's file name
    conversation_time: datetime | None
    duration: float  # seconds
    language: str
    agent: str
    customer: str
    agent_sentiment: float | None  # SentimentTrends score of the agent role, -5..5
    customer_sentiment: float | None
    customer_sentiment_change: float | None  # last quarter minus first quarter
    categories: tuple[str, ...] = ()
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict)  # type -> distinct values
    summary: str = ""
    action_items: tuple[str, ...] = ()
    redacted: bool = False
    path: str = ""  # where the PCA JSON lies
    talk: TalkFigures | None = None  # None: stored by a callscope that did not keep them (load again)

    def as_json(self) -> dict[str, Any]:
        return {
            "guid": self.guid, "file": self.file,
            "conversation_time": self.conversation_time.isoformat(sep=" ") if self.conversation_time else None,
            "duration": self.duration, "language": self.language, "agent": self.agent, "customer": self.customer,
            "agent_sentiment": self.agent_sentiment, "customer_sentiment": self.customer_sentiment,
            "customer_sentiment_change": self.customer_sentiment_change,
            "categories": list(self.categories), "entities": {k: list(v) for k, v in self.entities.items()},
            "summary": self.summary, "action_items": list(self.action_items), "redacted": self.redacted,
            "path": self.path, "talk": self.talk.as_json() if self.talk else None,
        }


@dataclass(frozen=True)
class CallFigures:
    """The fields of a stored call that the overview and the list's sorts read: a CallRecord without its
    entities, summary and action items, so that every call of a large store can be read at once."""

    guid: str
    conversation_time: datetime | None
    duration: float
    language: str
    agent: str
    customer: str
    agent_sentiment: float | None
    customer_sentiment: float | None
    customer_sentiment_change: float | None
    categories: tuple[str, ...]
    talk: TalkFigures | None

    @classmethod
    def of(cls, record: CallRecord) -> CallFigures:
        return cls(record.guid, record.conversation_time, record.duration, record.language, record.agent,
                   record.customer, record.agent_sentiment, record.customer_sentiment,
                   record.customer_sentiment_change, record.categories, record.talk)


@dataclass(frozen=True)
class StoredCall:
    record: CallRecord
    transcript: str  # every segment's text, one line each, for full-text search


@dataclass(frozen=True)
class SearchQuery:
    """Filters are ANDed; None (or "") means no filter. Results come newest first."""

    since: datetime | None = None  # conversation time >= since
    until: datetime | None = None  # conversation time < until
    agent: str = ""
    customer_sentiment_below: float | None = None  # strictly below
    customer_sentiment_above: float | None = None  # strictly above
    sentiment_change: SentimentDirection | None = None
    entity_type: str = ""
    entity_value: str = ""  # compared case-insensitively
    category: str = ""
    language: str = ""  # as written in the document: "en-US", "fr"
    text: str = ""  # words that must all occur in the transcript
    limit: int = DEFAULT_LIMIT
    continuation: str | None = None  # SearchPage.continuation of the previous page


@dataclass(frozen=True)
class SearchPage:
    records: list[CallRecord]
    continuation: str | None  # None on the last page


@dataclass(frozen=True)
class Facets:
    """The values the call list's choice filters offer: every agent, category and language stored."""

    agents: tuple[str, ...]
    categories: tuple[str, ...]
    languages: tuple[str, ...]

    @classmethod
    def of(cls, agents: Iterable[str], categories: Iterable[str], languages: Iterable[str]) -> Facets:
        """Each set of values once, empty ones left out, sorted regardless of case."""
        return cls(_sorted(agents), _sorted(categories), _sorted(languages))


def _sorted(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({value for value in values if value}, key=lambda value: (value.casefold(), value)))


class Store(Protocol):
    """What every store does (SqliteStore, DynamoDbStore). Stores are context managers that close."""

    location: str  # how the user named it: a file path, dynamodb://TABLE

    def put(self, document: dict[str, Any], path: str) -> CallRecord:
        """Store (or replace, by GUID) the call of a PCA document; raises NotAPcaDocument."""
        ...

    def put_call(self, stored: StoredCall) -> None:
        """Store (or replace, by GUID) a call already taken from its document."""
        ...

    def get(self, guid: str) -> CallRecord | None: ...

    def transcript(self, guid: str) -> str | None:
        """The text that text search looks in; None for an unknown GUID."""
        ...

    def search(self, query: SearchQuery) -> SearchPage: ...

    def count(self, query: SearchQuery | None = None) -> int: ...

    def facets(self) -> Facets:
        """Every agent, category and language stored (the call list's choices)."""
        ...

    def figures(self, query: SearchQuery) -> list[CallFigures]:
        """Every call matching the query's filters (its limit and continuation are ignored), newest first."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *_: object) -> None: ...
