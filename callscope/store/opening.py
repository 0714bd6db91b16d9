"""Which store a command uses: `--store LOCATION`, else $CALLSCOPE_STORE, else callscope.db here.

A location is a SQLite file path, or `dynamodb://TABLE` (optionally `?region=eu-west-1&endpoint_url=...`)
for the DynamoDB store.
"""

from __future__ import annotations

import os
import sqlite3

from callscope.store.base import Store, StoreError

DEFAULT_LOCATION = "callscope.db"
STORE_ENV = "CALLSCOPE_STORE"
DYNAMODB_SCHEME = "dynamodb://"


def store_location(location: str | None) -> str:
    return location or os.environ.get(STORE_ENV) or DEFAULT_LOCATION


def open_store(location: str | None = None) -> Store:
    """The store at location (see the module's doc); StoreError in one line, naming it, when it cannot open."""
    target = store_location(location)
    if target.startswith(DYNAMODB_SCHEME):
        from callscope.store.dynamodb import open_dynamodb_store

        return open_dynamodb_store(target)
    from callscope.store.sqlite import SqliteStore

    try:
        return SqliteStore(target)
    except sqlite3.Error as error:
        raise StoreError(f"{target}: cannot open the store: {error}") from None
