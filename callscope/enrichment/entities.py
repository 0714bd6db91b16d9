"""Entities of each turn: people, organisations, places, dates, quantities, products, ...

Two backends fill `Turn.entities` from `Turn.analysis_text`, with the same type names (Amazon
Comprehend's: PERSON, ORGANIZATION, LOCATION, DATE, QUANTITY, COMMERCIAL_ITEM, EVENT, TITLE, OTHER),
so a local run and a Comprehend run read alike:

- `LocalEntities`: spaCy's en_core_web_sm NER (shared loader, callscope.enrichment.spacy_model).
  spaCy's greedy NER gives no per-entity confidence, so every model entity scores NER_SCORE.
- `ComprehendEntities`: `batch_detect_entities`, at most 25 texts of at most 5,000 bytes a call;
  longer turns are split at sentence ends and the offsets shifted back.

Either applies custom entities (an EntityMap, score 1.0) on top: where a listed name overlaps a
model entity, the listed name wins, so nothing is counted twice in CustomEntities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from callscope.enrichment.custom_entities import EntityMap
from callscope.enrichment.pii.redact import PLACEHOLDER
from callscope.enrichment.spacy_model import DEFAULT_SPACY_MODEL, load_spacy
from callscope.enrichment.text_pieces import split_with_offsets
from callscope.model import Conversation, Entity

COMPREHEND_TYPES = ("PERSON", "LOCATION", "ORGANIZATION", "COMMERCIAL_ITEM", "EVENT", "DATE", "QUANTITY",
                    "TITLE", "OTHER")
# spaCy's OntoNotes labels → Comprehend's types, by Comprehend's definitions (QUANTITY covers
# currency, percentages and plain numbers; DATE covers times of day).
SPACY_TO_COMPREHEND = {
    "PERSON": "PERSON", "ORG": "ORGANIZATION", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
    "DATE": "DATE", "TIME": "DATE", "QUANTITY": "QUANTITY", "CARDINAL": "QUANTITY", "MONEY": "QUANTITY",
    "PERCENT": "QUANTITY", "ORDINAL": "QUANTITY", "PRODUCT": "COMMERCIAL_ITEM", "EVENT": "EVENT",
    "WORK_OF_ART": "TITLE", "NORP": "OTHER", "LAW": "OTHER", "LANGUAGE": "OTHER",
}
NER_SCORE = 0.85  # spaCy's NER has no scores: one fixed value, below the 1.0 of listed names

COMPREHEND_MAX_TEXTS = 25
COMPREHEND_MAX_BYTES = 5000
_EDGE_PUNCTUATION = " \t\n.,;:!?\"()"
_ABBREVIATION_END = re.compile(r"\.[A-Za-z]\.$")  # "8 a.m." and "U.S." keep their last dot


@dataclass
class LocalEntities:
    entity_map: EntityMap | None = None
    types: tuple[str, ...] = ()  # Comprehend type names to keep; empty: all
    model: str = DEFAULT_SPACY_MODEL
    batch_size: int = 64
    name: str = field(init=False)
    aspect = "entities"

    def __post_init__(self) -> None:
        base = "en_core_web_sm" if self.model == DEFAULT_SPACY_MODEL else self.model
        self.name = _with_map(f"local:spacy-{base}", self.entity_map)

    def enrich(self, conversation: Conversation) -> None:
        nlp = load_spacy(self.model)
        # Only the NER component: in this model it has its own token encoder, and the shared
        # pipeline object stays untouched for other enrichers (PII).
        ner = nlp.get_pipe("ner")
        texts = [_masked(turn.analysis_text) for turn in conversation.turns]
        docs = ner.pipe((nlp.make_doc(text) for text in texts), batch_size=self.batch_size)
        for turn, text, doc in zip(conversation.turns, texts, docs):
            found = []
            for span in doc.ents:
                kind = SPACY_TO_COMPREHEND.get(span.label_, "OTHER")
                entity = _trimmed(text, kind, span.start_char, span.end_char, NER_SCORE)
                if entity is not None and (not self.types or kind in self.types):
                    found.append(entity)
            turn.entities = _with_custom(text, found, self.entity_map)


@dataclass
class ComprehendEntities:
    client: Any = None  # a boto3 "comprehend" client; None: created on first use
    language_code: str = "en"  # analysis_text is English (or its translation)
    entity_map: EntityMap | None = None
    types: tuple[str, ...] = ()
    min_score: float = 0.0  # the reference system's entity threshold
    name: str = field(init=False)
    aspect = "entities"

    def __post_init__(self) -> None:
        self.name = _with_map("comprehend", self.entity_map)

    def enrich(self, conversation: Conversation) -> None:
        if self.client is None:
            import boto3

            self.client = boto3.client("comprehend")
        texts = [_masked(turn.analysis_text) for turn in conversation.turns]
        # (turn index, offset of the piece in the turn's text, piece)
        pieces = [(index, offset, piece) for index, text in enumerate(texts)
                  for offset, piece in split_with_offsets(text, COMPREHEND_MAX_BYTES)]
        found: list[list[Entity]] = [[] for _ in texts]
        for start in range(0, len(pieces), COMPREHEND_MAX_TEXTS):
            batch = pieces[start:start + COMPREHEND_MAX_TEXTS]
            response = self.client.batch_detect_entities(
                TextList=[piece for _, _, piece in batch], LanguageCode=self.language_code
            )
            for result in response.get("ResultList", []):
                index, offset, _ = batch[result["Index"]]
                for item in result.get("Entities", []):
                    entity = self._entity(texts[index], item, offset)
                    if entity is not None:
                        found[index].append(entity)
            for error in response.get("ErrorList", []):
                index = batch[error["Index"]][0]
                conversation.warnings.append(
                    (f"comprehend entities: turn {index}: {error.get('ErrorCode', '')} "
                     f"{error.get('ErrorMessage', '')}").strip()
                )
        for turn, text, entities in zip(conversation.turns, texts, found):
            turn.entities = _with_custom(text, sorted(entities, key=lambda item: item.begin), self.entity_map)

    def _entity(self, text: str, item: dict[str, Any], offset: int) -> Entity | None:
        kind, score = item.get("Type", "OTHER"), float(item.get("Score", 0.0))
        if score < self.min_score or (self.types and kind not in self.types):
            return None
        begin, end = item["BeginOffset"] + offset, item["EndOffset"] + offset
        if text[begin:end] != item.get("Text", text[begin:end]):
            # Offsets that do not slice our string (characters outside the BMP count differently):
            # find the text nearest to where Comprehend put it.
            nearest = text.find(item["Text"], max(begin - 8, 0))
            if nearest < 0:
                return None
            begin, end = nearest, nearest + len(item["Text"])
        return _trimmed(text, kind, begin, end, score)


def _masked(text: str) -> str:
    """Redaction placeholders masked, length kept, so no model tags them."""
    return PLACEHOLDER.sub(lambda match: "*" * len(match.group(0)), text)


def _trimmed(text: str, kind: str, begin: int, end: int, score: float) -> Entity | None:
    """The entity without surrounding punctuation ("Meadow," → "Meadow"); None if nothing is left."""
    while begin < end and text[begin] in _EDGE_PUNCTUATION:
        begin += 1
    while end > begin and text[end - 1] in _EDGE_PUNCTUATION and not _ABBREVIATION_END.search(text, begin, end):
        end -= 1
    if begin == end or "*" in text[begin:end]:
        return None
    return Entity(kind, text[begin:end], begin, end, score)


def _with_custom(text: str, found: list[Entity], entity_map: EntityMap | None) -> list[Entity]:
    if entity_map is None:
        return found
    custom = entity_map.find(text)
    kept = [entity for entity in found
            if all(entity.end <= listed.begin or entity.begin >= listed.end for listed in custom)]
    return sorted(kept + custom, key=lambda item: (item.begin, item.end))


def _with_map(base: str, entity_map: EntityMap | None) -> str:
    return f"{base}+{entity_map.source}" if entity_map is not None and entity_map.source else base
