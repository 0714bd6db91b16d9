"""Where analysed calls are kept and searched: one `Store` interface, SQLite by default."""

from callscope.store.base import CallRecord, NotAPcaDocument, SearchPage, SearchQuery, Store, StoreError
from callscope.store.records import StoredCall, record_from_pca
from callscope.store.sqlite import SqliteStore

__all__ = ["CallRecord", "NotAPcaDocument", "SearchPage", "SearchQuery", "SqliteStore", "Store", "StoreError",
           "StoredCall", "record_from_pca"]
