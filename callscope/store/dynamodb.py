"""The DynamoDB store: one table, single-table design (see docs/STORE.md, "DynamoDB").

Each call is an item collection under PK CALL#<guid>: the call item (SK CALL), an index item per GSI1
partition it is listed in (agent, language, category, entity, sentiment direction), and chunk items for an
enormous transcript. A search Queries GSI1 in the partition of its most selective filter, newest first within
the time range, and checks each entry against its call item (dynamodb_filters).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from callscope.store import dynamodb_items as items
from callscope.store import dynamodb_keys as keys
from callscope.store.base import CallFigures, CallRecord, Facets, SearchPage, SearchQuery, StoreError
from callscope.store.dynamodb_filters import filter_expression, matches, needs_call_items
from callscope.store.dynamodb_table import aws_errors, check_table, create_table, make_client, parse_url
from callscope.store.records import StoredCall, record_from_pca
from callscope.store.walk import every_record

__all__ = ["DynamoDbStore", "create_table", "open_dynamodb_store"]

_TRANSACTION_ITEMS = 100  # TransactWriteItems' limit; a call with more items is written in batches
_MAX_BATCH = 1000  # index entries per Query at most; a search starts at its page size + 1 and doubles
_BATCH_WRITE, _BATCH_GET = 25, 100  # BatchWriteItem's and BatchGetItem's limits
_CONFLICT_TRIES = 5  # two writers of one GUID at once: the one that finds the call changed reads it again
_UNPROCESSED_TRIES = 8  # rounds of retrying what a batch call left unprocessed (throttling), backing off


def open_dynamodb_store(url: str) -> DynamoDbStore:
    """The store at dynamodb://TABLE[?region=R&endpoint_url=URL&create=1]; StoreError in one line otherwise."""
    parsed = parse_url(url)
    client = make_client(parsed)
    try:
        check_table(client, parsed)
    except BaseException:
        client.close()
        raise
    return DynamoDbStore(client, parsed.table)


class DynamoDbStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client  # a boto3 DynamoDB client (tests watch its requests)
        self.table = table
        self.location = f"dynamodb://{table}"
        self._region = client.meta.region_name

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DynamoDbStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _errors(self) -> Any:
        return aws_errors(self.location, self._region)

    # --- writing --------------------------------------------------------------------------------

    def put(self, document: dict[str, Any], path: str) -> CallRecord:
        stored = record_from_pca(document, path)
        self.put_call(stored)
        return stored.record

    def put_call(self, stored: StoredCall) -> None:
        guid = stored.record.guid
        if len(guid.encode()) > keys.MAX_GUID_BYTES:
            raise StoreError(f"{self.location}: GUID {guid[:40]!r}... is longer than DynamoDB keys allow "
                             f"({keys.MAX_GUID_BYTES} bytes)")
        call, others = items.items_for(stored)
        with self._errors():
            for attempt in range(_CONFLICT_TRIES):
                version, old = self._current(guid)
                stale = old - {item["SK"]["S"] for item in others}
                condition = _unchanged(version)
                last_try = attempt == _CONFLICT_TRIES - 1
                # Chunks are big: a transaction holds 4 MB at most, so a call with chunks goes in batches.
                if len(others) + 1 + len(stale) > _TRANSACTION_ITEMS or "txn" in call:
                    done = self._replace_in_batches(call, others, stale, condition, last_try)
                else:
                    done = self._replace_atomically(call, others, stale, condition, last_try)
                if done:
                    return
                time.sleep(0.05 * 2 ** attempt * random.random())

    def _replace_atomically(self, call: items.Item, others: list[items.Item], stale: set[str],
                            condition: dict[str, Any], last_try: bool) -> bool:
        """One transaction: no reader ever sees half a call. False when another writer came first."""
        pk = call["PK"]
        actions = [{"Put": {"TableName": self.table, "Item": item}} for item in others]
        actions.append({"Put": {"TableName": self.table, "Item": call, **condition}})
        actions += [{"Delete": {"TableName": self.table, "Key": {"PK": pk, "SK": {"S": sk}}}} for sk in sorted(stale)]
        try:
            self.client.transact_write_items(TransactItems=actions)
            return True
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
            if reasons & {"TransactionConflict", "ConditionalCheckFailed"} and not last_try:
                return False
            raise

    def _replace_in_batches(self, call: items.Item, others: list[items.Item], stale: set[str],
                            condition: dict[str, Any], last_try: bool) -> bool:
        """Too many items for one transaction: new index items and chunks first, then the call item, then the
        deletions. Meanwhile a reader may miss the call or meet a stale entry, which its check drops. False when
        another writer came first (our index items stay until the retry reads and deletes what is stale)."""
        self._batch_write([{"PutRequest": {"Item": item}} for item in others])
        try:
            self.client.put_item(TableName=self.table, Item=call, **condition)
        except self.client.exceptions.ConditionalCheckFailedException:
            if last_try:
                raise
            return False
        self._batch_write([{"DeleteRequest": {"Key": {"PK": call["PK"], "SK": {"S": sk}}}} for sk in sorted(stale)])
        return True

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE):
            pending = {self.table: requests[start:start + _BATCH_WRITE]}
            for attempt in range(_UNPROCESSED_TRIES):
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2 ** attempt * random.random())  # unprocessed: throttled; back off
            if pending:
                raise StoreError(f"{self.location}: DynamoDB left writes unprocessed after {_UNPROCESSED_TRIES} "
                                 "tries (throttled); try again later or raise the table's capacity")

    def _current(self, guid: str) -> tuple[str | None, set[str]]:
        """The call item's version (None for a new call) and the sort keys of the call's other items. A
        consistent read: a re-put must see the last put."""
        version: str | None = None
        found: set[str] = set()
        request: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "#pk = :pk", "ProjectionExpression": "#sk, #ver",
            "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK", "#ver": items.VERSION},
            "ExpressionAttributeValues": {":pk": {"S": keys.call_pk(guid)}}, "ConsistentRead": True}
        for answer in self._pages(request):
            for item in answer.get("Items", []):
                if item["SK"]["S"] == keys.CALL_SK:
                    version = item.get(items.VERSION, {}).get("S", "")
                else:
                    found.add(item["SK"]["S"])
        return version, found

    def _pages(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a Query: each next one starts at the previous one's LastEvaluatedKey (the caller may
        change request between pages)."""
        while True:
            answer = self.client.query(**request)
            yield answer
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # --- reading --------------------------------------------------------------------------------

    def get(self, guid: str) -> CallRecord | None:
        projection, names = _projection(items.FIELDS)
        with self._errors():
            item = self.client.get_item(TableName=self.table, Key=_call_key(guid), ProjectionExpression=projection,
                                        ExpressionAttributeNames=names).get("Item")
        return items.record_of(item) if item else None

    def transcript(self, guid: str) -> str | None:
        with self._errors():
            item = self.client.get_item(TableName=self.table, Key=_call_key(guid)).get("Item")
            return self._text(item) if item else None

    def search(self, query: SearchQuery) -> SearchPage:
        after = keys.decode_token(query.continuation) if query.continuation else None
        limit = max(int(query.limit), 1)
        found: list[tuple[str, CallRecord]] = []
        with self._errors():
            for match in self._matches(query, after, first_batch=min(limit + 1, _MAX_BATCH)):
                found.append(match)
                if len(found) > limit:  # one more than asked says whether another page follows
                    break
        page = found[:limit]
        return SearchPage([record for _, record in page], keys.encode_token(page[-1][0]) if len(found) > limit
                          else None)

    def count(self, query: SearchQuery | None = None) -> int:
        query = query or SearchQuery()
        partition, served = keys.partition_for(query)
        with self._errors():
            if needs_call_items(query, served):
                return sum(1 for _ in self._matches(query, None, first_batch=_MAX_BATCH))
            # Every filter is served by the index: count its entries, reading no call item.
            request = self._index_query(query, partition, served, keys.sort_range(query, None))
            if request is None:
                return 0
            request["Select"] = "COUNT"
            return sum(answer["Count"] for answer in self._pages(request))

    def figures(self, query: SearchQuery) -> list[CallFigures]:
        return [CallFigures.of(record) for record in every_record(self, query).records]

    def facets(self) -> Facets:
        """From every call item: the table has no index that lists its agents or categories alone."""
        records = every_record(self, SearchQuery()).records
        return Facets.of(agents=(record.agent for record in records),
                         categories=(name for record in records for name in record.categories),
                         languages=(record.language for record in records))

    def _matches(self, query: SearchQuery, after: str | None, first_batch: int) -> Iterator[tuple[str, CallRecord]]:
        """(sort key, record) of every matching call after the token's key, newest first."""
        partition, served = keys.partition_for(query)
        span = keys.sort_range(query, after)
        request = self._index_query(query, partition, served, span)
        if request is None:
            return
        request["Limit"] = first_batch
        with_text = bool(query.text.strip())
        for answer in self._pages(request):
            entries = [(entry["GSI1SK"]["S"], keys.guid_of(entry["PK"]["S"])) for entry in answer.get("Items", [])
                       if entry["GSI1SK"]["S"] != span.after]
            calls = self._calls([guid for _, guid in entries], with_text)
            for key, guid in entries:
                found = calls.get(guid)
                if found is None:
                    continue  # deleted or re-put since GSI1 listed it
                record, text = found
                # An entry whose key is not the call's own is stale (GSI1 lags a re-put): the current one counts.
                if keys.sort_key(record) == key and matches(record, query, text):
                    yield key, record
            request["Limit"] = min(request["Limit"] * 2, _MAX_BATCH)  # for the next page, if one follows

    def _index_query(self, query: SearchQuery, partition: str, served: str, span: keys.SortRange
                     ) -> dict[str, Any] | None:
        """The GSI1 Query request for a search; None when its time range is empty."""
        if span.empty:
            return None
        sort_condition, sort_values = span.condition()
        condition, names, values = filter_expression(query, served)
        request: dict[str, Any] = {
            "TableName": self.table, "IndexName": keys.GSI, "ScanIndexForward": False,
            "KeyConditionExpression": "#pk = :pk" + sort_condition,
            "ExpressionAttributeNames": {"#pk": "GSI1PK", **({"#sk": "GSI1SK"} if sort_condition else {}), **names},
            "ExpressionAttributeValues": {":pk": {"S": partition}, **sort_values, **values},
        }
        if condition:
            request["FilterExpression"] = condition
        return request

    def _calls(self, guids: list[str], with_text: bool) -> dict[str, tuple[CallRecord, str | None]]:
        """guid → (record, transcript when with_text) for the call items that exist, by BatchGetItem."""
        wanted = list(dict.fromkeys(guids))
        projection, names = _projection(items.FIELDS + (items.TEXT_FIELDS if with_text else ()))
        found: dict[str, tuple[CallRecord, str | None]] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            pending: dict[str, Any] = {self.table: {
                "Keys": [_call_key(guid) for guid in wanted[start:start + _BATCH_GET]],
                "ProjectionExpression": projection, "ExpressionAttributeNames": names}}
            for attempt in range(_UNPROCESSED_TRIES):
                answer = self.client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self.table, []):
                    found[item["guid"]["S"]] = (items.record_of(item), self._text(item) if with_text else None)
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2 ** attempt * random.random())
            if pending:
                raise StoreError(f"{self.location}: DynamoDB left reads unprocessed after {_UNPROCESSED_TRIES} tries "
                                 "(throttled); try again later")
        return found

    def _text(self, item: items.Item) -> str:
        inline = items.inline_text(item)
        if inline is not None:
            return inline
        chunked = items.chunked_text(item)
        if chunked is None:
            return ""
        version, count = chunked
        pk = item.get("PK") or {"S": keys.call_pk(item["guid"]["S"])}
        request: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
            "ExpressionAttributeValues": {":pk": pk, ":prefix": {"S": items.chunk_prefix(version)}}}
        chunks = [bytes(entry["b"]["B"]) for answer in self._pages(request) for entry in answer.get("Items", [])]
        if len(chunks) != count:  # the call was re-put while we read: its old chunks are gone
            raise StoreError(f"{self.location}: the transcript of {item['guid']['S']!r} changed while being read; "
                             "try again")
        return items.join_chunks(chunks)


def _unchanged(version: str | None) -> dict[str, Any]:
    """The call item's put condition: still the version read (None: still no call). Another writer of the GUID
    in between fails it, and the retry reads again, so no index item of either writer outlives its call item."""
    if version is None:
        return {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": "PK"}}
    if not version:  # a call item without a version
        return {"ConditionExpression": "attribute_not_exists(#ver)",
                "ExpressionAttributeNames": {"#ver": items.VERSION}}
    return {"ConditionExpression": "#ver = :ver", "ExpressionAttributeNames": {"#ver": items.VERSION},
            "ExpressionAttributeValues": {":ver": {"S": version}}}


def _call_key(guid: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": keys.call_pk(guid)}, "SK": {"S": keys.CALL_SK}}


def _projection(names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """A ProjectionExpression with placeholders (several of these names are DynamoDB reserved words)."""
    return ", ".join(f"#{name}" for name in names), {f"#{name}": name for name in names}
