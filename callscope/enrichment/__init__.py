"""Enrichment: what the words of a call mean (sentiment, entities, PII, categories, issues, ...).

Each enricher fills its fields of the typed model (callscope.model: Turn.sentiment, Turn.entities,
Conversation.categories, ...) in place, reading `Turn.analysis_text` (English) and records its
backend in `Conversation.enrichment[aspect]`. They run after turns are built, in the order of
ENRICHMENT_ORDER: redaction first, so nothing later sees (or copies) PII.
"""

from __future__ import annotations

from typing import Protocol

from callscope.model import Conversation

ENRICHMENT_ORDER = ("pii", "sentiment", "entities", "issues", "categories")


class Enricher(Protocol):
    aspect: str  # one of ENRICHMENT_ORDER
    name: str  # the backend, as recorded in Conversation.enrichment: "local:...", "comprehend"

    def enrich(self, conversation: Conversation) -> None:
        """Fill this aspect's fields of `conversation` in place."""
        ...


def enrich(conversation: Conversation, enrichers: list[Enricher]) -> Conversation:
    for enricher in sorted(enrichers, key=lambda item: ENRICHMENT_ORDER.index(item.aspect)):
        enricher.enrich(conversation)
        conversation.enrichment[enricher.aspect] = enricher.name
    return conversation
