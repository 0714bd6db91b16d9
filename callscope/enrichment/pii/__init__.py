"""PII detection and redaction (the "pii" enrichment, which runs first).

Detectors return typed word spans (`PiiSpan`), never the PII text: `LocalPiiDetector` (presidio +
spaCy + a spoken-form normaliser + context rules, offline) and `ComprehendPiiDetector` (Amazon
Comprehend DetectPiiEntities). `PiiRedactor` is the enricher that replaces the words;
`detect_pii` only finds them. Audio: callscope.enrichment.pii_audio.
"""

from callscope.enrichment.pii.base import PII_TYPES, PiiDetector, PiiFinding, PiiSpan
from callscope.enrichment.pii.redact import (
    DEFAULT_TOKEN,
    PiiRedactor,
    detect_pii,
    redact_conversation,
    redact_words,
    redacted_time_spans,
)

__all__ = [
    "DEFAULT_TOKEN", "PII_TYPES", "PiiDetector", "PiiFinding", "PiiRedactor", "PiiSpan", "detect_pii",
    "redact_conversation", "redact_words", "redacted_time_spans",
]
