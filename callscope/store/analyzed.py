"""`callscope analyze --store`: each analysed call's PCA JSON goes into the store as it finishes."""

from __future__ import annotations

import json
from pathlib import Path

from callscope.errors import CallscopeError, first_line
from callscope.store.base import Store
from callscope.store.records import record_from_pca


def store_call_outputs(store: Store, outputs: list[str]) -> None:
    """Put the call whose output files these are into the store; CallscopeError in one line on failure."""
    documents = [path for path in outputs if path.endswith(".json")]
    if not documents:
        raise CallscopeError("no PCA JSON among the call's outputs")
    path = Path(documents[0])
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CallscopeError(f"{path}: cannot read JSON: {first_line(error)}") from None
    store.put_call(record_from_pca(document, str(path)))
