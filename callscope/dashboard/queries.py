"""The call list's filters, as the API and the list page take them, → the store's SearchQuery."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from callscope.store.base import DEFAULT_LIMIT, SearchQuery
from callscope.store.moments import parse_moment

MAX_LIMIT = 500
SENTIMENT_CHANGES = ("improving", "worsening")


class FilterError(ValueError):
    """A filter value that means nothing (a time that is no time, a sentiment that is no number)."""


@dataclass(frozen=True)
class CallFilters:
    """The filters as written by the user (strings): what the form shows again and links carry."""

    since: str = ""
    until: str = ""
    agent: str = ""
    customer_sentiment_below: str = ""
    customer_sentiment_above: str = ""
    sentiment_change: str = ""
    category: str = ""
    entity: str = ""  # TYPE=VALUE or VALUE
    language: str = ""
    text: str = ""

    def params(self) -> dict[str, str]:
        """The filters that are set, for a link's query string."""
        return {name: value for name, value in asdict(self).items() if value}

    def any(self) -> bool:
        return bool(self.params())

    def query(self, limit: int = DEFAULT_LIMIT, continuation: str | None = None) -> SearchQuery:
        entity_type, _, entity_value = self.entity.rpartition("=")
        if self.sentiment_change and self.sentiment_change not in SENTIMENT_CHANGES:
            raise FilterError(f"sentiment change '{self.sentiment_change}' is not improving or worsening")
        return SearchQuery(
            since=_time("since", self.since), until=_time("until", self.until), agent=self.agent.strip(),
            customer_sentiment_below=_score("customer sentiment below", self.customer_sentiment_below),
            customer_sentiment_above=_score("customer sentiment above", self.customer_sentiment_above),
            sentiment_change=self.sentiment_change or None,  # type: ignore[arg-type]
            entity_type=entity_type.strip(), entity_value=entity_value.strip(), category=self.category.strip(),
            language=self.language.strip(), text=self.text, limit=max(1, min(int(limit), MAX_LIMIT)),
            continuation=continuation or None,
        )


def _time(name: str, value: str):
    try:
        return parse_moment(value.strip())
    except ValueError as error:
        raise FilterError(f"{name}: {error}") from None


def _score(name: str, value: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise FilterError(f"{name}: '{value}' is not a number") from None
