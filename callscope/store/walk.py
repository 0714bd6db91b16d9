"""Every stored call that matches a query, read page after page until the store says no page follows."""

from __future__ import annotations

from dataclasses import dataclass, replace

from callscope.store.base import CallRecord, SearchQuery, Store, StoreError

PAGE_SIZE = 500  # calls per store page while walking


@dataclass(frozen=True)
class Walk:
    records: list[CallRecord]  # each call once, in the store's order (newest first)
    pages: int  # store pages read


def every_record(store: Store, query: SearchQuery, page_size: int = PAGE_SIZE) -> Walk:
    """Every matching call, following the store's continuation token to the last page (stopping at the
    first page would silently drop calls on a busy day).

    A page may be empty and still have a token (a DynamoDB page whose items the filter dropped).
    """
    records: list[CallRecord] = []
    pages = 0
    token: str | None = None
    while True:
        page = store.search(replace(query, limit=page_size, continuation=token))
        pages += 1
        records.extend(page.records)
        if page.continuation is None:
            break
        if page.continuation == token:  # a store bug would otherwise loop for ever
            raise StoreError(f"{store.location}: the store gave the same continuation token twice")
        token = page.continuation
    # A call loaded again during the walk may come twice from a store without keyset pages: keep its last.
    last = {record.guid: index for index, record in enumerate(records)}
    return Walk([record for index, record in enumerate(records) if last[record.guid] == index], pages)
