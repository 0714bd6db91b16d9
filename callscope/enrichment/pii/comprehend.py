"""Amazon Comprehend backend: DetectPiiEntities on each turn, its character offsets mapped to words.

Same spans as the local detector, so the same redaction (text and audio) follows. Comprehend's
DATE_TIME is a birth date only after birth words ("date of birth", "born"); plain dates stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callscope.enrichment.pii.base import PiiSpan, WordText, resolve
from callscope.enrichment.text_pieces import split_with_offsets

# DetectPiiEntities takes at most 100 KB of UTF-8 text per request.
MAX_TEXT_BYTES = 100_000
LANGUAGES = ("en", "es")  # the languages DetectPiiEntities supports
_BIRTH = re.compile(r"(?:date of birth|birth ?date|birthday|\bborn\b|\bdob\b|d\.? ?o\.? ?b\b)[^.?!]{0,40}$", re.I)


class ComprehendPiiDetector:
    name = "comprehend"

    def __init__(self, client=None, language: str = "en", min_score: float = 0.5, region_name: str | None = None):
        if language not in LANGUAGES:
            raise ValueError(f"Comprehend detects PII in {', '.join(LANGUAGES)} only, not {language!r}")
        if client is None:
            import boto3

            client = boto3.client("comprehend", region_name=region_name)
        self.client = client
        self.language = language
        self.min_score = min_score

    def detect(self, turns: Sequence[Sequence[str]]) -> list[list[PiiSpan]]:
        return [self._detect_turn(WordText(words)) for words in turns]

    def _detect_turn(self, text: WordText) -> list[PiiSpan]:
        spans = []
        for offset, chunk in split_with_offsets(text.text, MAX_TEXT_BYTES):
            response = self.client.detect_pii_entities(Text=chunk, LanguageCode=self.language)
            for entity in response.get("Entities", []):
                kind = entity["Type"]
                if entity["Score"] < self.min_score:
                    continue
                if kind == "DATE_TIME":
                    if not _BIRTH.search(chunk[:entity["BeginOffset"]]):
                        continue
                    kind = "DATE_OF_BIRTH"
                covered = text.words_in(offset + entity["BeginOffset"], offset + entity["EndOffset"])
                if covered:
                    spans.append(PiiSpan(kind, covered[0], covered[-1], float(entity["Score"])))
        return resolve(spans, len(text.words))
