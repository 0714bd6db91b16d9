"""Enrichment of a transcript input that keeps what its source computed.

Call Analytics documents come with turn sentiment, categories and issues / action items /
outcomes. The rule: what the source computed wins, callscope's enrichers fill the rest.
- sentiment and issues: callscope's enrichers for these aspects do not run (so category rules that
  read sentiment see the source's sentiment);
- categories: callscope's rules (shipped or --categories) still run, and the source's categories
  are listed first, with callscope's whose names differ after them;
- PII and entities: callscope's, as for any call. When redaction changes a turn's text, the
  source's spans on it are found again in the redacted text; a span whose text was redacted is left
  out, with a warning.
Documents that computed nothing (chats, standard Transcribe jobs) get every enricher, as recordings do.
"""

from __future__ import annotations

from callscope.enrichment import Enricher, enrich
from callscope.inputs.source import transcript_source
from callscope.model import Conversation, TextSpan

_SPAN_ATTRIBUTES = ("issues", "action_items", "outcomes")


def enrich_keeping_source(conversation: Conversation, enrichers: list[Enricher],
                          provided: frozenset[str] | None = None, origin: str = "") -> Conversation:
    """`provided` and `origin` ("transcribe:call-analytics") default to what the conversation's
    TranscriptSource says; a recording transcribed by the service passes them."""
    if provided is None:
        source = transcript_source(conversation)
        provided = source.provided if source is not None else frozenset()
        origin = f"transcribe:{source.codec}" if source is not None else ""
    if not provided:
        return enrich(conversation, enrichers)
    backend = origin
    texts = [turn.text for turn in conversation.turns]
    categories = list(conversation.categories)
    turn_categories = [list(turn.categories) for turn in conversation.turns]
    enrich(conversation, [enricher for enricher in enrichers
                          if enricher.aspect not in provided or enricher.aspect == "categories"])
    for aspect in provided:
        ours = conversation.enrichment.get(aspect) if aspect == "categories" else None
        conversation.enrichment[aspect] = backend + (f"+{ours}" if ours else "")
    if "categories" in provided:
        _merge_categories(conversation, categories, turn_categories)
    if "issues" in provided:
        _refind_spans(conversation, texts)
    return conversation


def _merge_categories(conversation: Conversation, source_matches: list, source_turns: list[list[str]]) -> None:
    names = {match.name for match in source_matches}
    conversation.categories = source_matches + [match for match in conversation.categories if match.name not in names]
    for turn, kept in zip(conversation.turns, source_turns):
        turn.categories = kept + [name for name in turn.categories if name not in kept]


def _refind_spans(conversation: Conversation, texts_before: list[str]) -> None:
    lost = 0
    for turn, before in zip(conversation.turns, texts_before):
        text = turn.analysis_text
        if text == before:
            continue
        for attribute in _SPAN_ATTRIBUTES:
            kept: list[TextSpan] = []
            for span in getattr(turn, attribute):
                found = text.find(span.text)
                if found < 0:
                    lost += 1
                else:
                    kept.append(TextSpan(span.text, found, found + len(span.text)))
            setattr(turn, attribute, kept)
    if lost:
        conversation.warnings.append(f"{lost} issue/action item/outcome span(s) held redacted text: left out")
