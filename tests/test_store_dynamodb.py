"""The DynamoDB store against moto's DynamoDB server on loopback: the SQLite store's behaviours (with the SQLite
store as the oracle for filters and pages), the requests it sends (Query on GSI1, never Scan; stale index items
deleted), and its one-line errors. Dummy credentials only: nothing here can reach AWS."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.output.pca import to_pca
from callscope.store import SearchQuery, SqliteStore, StoreError, dynamodb_items
from callscope.store.base import CallFigures
from callscope.store.dynamodb import DynamoDbStore, open_dynamodb_store
from callscope.store.opening import open_store
from tests import test_store
from tests.conftest import PCA_REFERENCE_JSON, fake_aws_environment
from tests.test_store import _call, _results, _write, calls, check_search_command, sample_calls  # noqa: F401 (calls: a fixture)

boto3 = pytest.importorskip("boto3")
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def endpoint():
    """moto's server on a free loopback port, with dummy credentials and no AWS configuration in reach."""
    server_module = pytest.importorskip("moto.server")  # the dev extra's moto[server]

    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            patch.delenv(name)
        fake_aws_environment(patch, REGION, no_config_files=True)
        server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def _url(endpoint: str, table: str | None = None, create: bool = True) -> str:
    table = table or f"t-{uuid.uuid4().hex[:10]}"  # a fresh table per test: no test sees another's calls
    return f"dynamodb://{table}?endpoint_url={endpoint}" + ("&create=1" if create else "")


@pytest.fixture
def store(endpoint):
    with open_dynamodb_store(_url(endpoint)) as opened:
        yield opened


class Requests:
    """Every request the store's client sends: (operation, parameters)."""

    def __init__(self, client: Any) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.sent.append((model.name, json.loads(json.dumps(params, default=repr))))

    def named(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.sent if name == operation]

    def clear(self) -> None:
        self.sent.clear()


def _guids(store, **filters) -> list[str]:
    return [record.guid for record in store.search(SearchQuery(**filters)).records]


def _item_keys(store: DynamoDbStore, guid: str) -> set[str]:
    answer = store.client.query(TableName=store.table, KeyConditionExpression="PK = :pk",
                                ExpressionAttributeValues={":pk": {"S": f"CALL#{guid}"}}, ConsistentRead=True)
    return {item["SK"]["S"] for item in answer["Items"]}


def test_open_store_picks_dynamodb_and_names_the_table(endpoint):
    with open_store(_url(endpoint, "named-table")) as opened:
        assert isinstance(opened, DynamoDbStore) and opened.location == "dynamodb://named-table"
        assert opened.client.meta.region_name == REGION and opened.count() == 0
    with open_store(_url(endpoint, "named-table", create=False)) as again:  # it exists now
        assert again.count() == 0


def test_put_get_and_upsert_by_guid_removes_stale_index_items(store, calls):
    record = store.put(to_pca(calls[0]), "/results/g1.json")
    assert store.get("g1") == record
    assert (record.agent, record.customer, record.language, record.duration) == ("ChrisL", "Cust1", "en-US", 100.0)
    assert record.conversation_time == datetime(2025, 2, 19, 6, 0)
    assert record.categories == ("lost_card",) and record.entities == {"LOCATION": ("Paris",)}
    assert record.action_items == ("I will send you a new card today.",) and not record.redacted
    assert "lost my card" in store.transcript("g1")
    assert _item_keys(store, "g1") == {"CALL", "IDX#AGENT#ChrisL", "IDX#LANG#en-US", "IDX#TREND#improving",
                                       "IDX#CAT#lost_card", "IDX#ENTT#LOCATION", "IDX#ENT#LOCATION#paris",
                                       "IDX#ENTV#paris"}

    requests = Requests(store.client)
    again = replace(calls[0], metadata=replace(calls[0].metadata, agent="Zoe"), categories=[])
    store.put(to_pca(again), "/results/g1.json")
    # one transaction writes the new items and deletes the old ones no longer wanted
    (transaction,) = requests.named("TransactWriteItems")
    (current,) = requests.named("Query")  # the call's items and its version, read consistently
    assert current["ConsistentRead"] and current["ProjectionExpression"] == "#sk, #ver"
    (put,) = [action["Put"] for action in transaction["TransactItems"] if "Put" in action
              and action["Put"]["Item"]["SK"]["S"] == "CALL"]
    assert put["ConditionExpression"] == "#ver = :ver"  # replaced only if no other writer came in between
    deleted = {action["Delete"]["Key"]["SK"]["S"] for action in transaction["TransactItems"] if "Delete" in action}
    assert deleted == {"IDX#AGENT#ChrisL", "IDX#CAT#lost_card"}
    assert "IDX#AGENT#Zoe" in _item_keys(store, "g1") and not _item_keys(store, "g1") & deleted
    assert store.count() == 1
    assert store.get("g1").agent == "Zoe" and store.get("g1").categories == ()
    assert _guids(store, category="lost_card") == [] and _guids(store, agent="Zoe") == ["g1"]
    assert _guids(store, agent="ChrisL") == []
    assert store.get("missing") is None and store.transcript("missing") is None
    assert not requests.named("Scan")


def test_the_reference_sample_is_stored_under_its_file_name(store):
    document = json.loads(PCA_REFERENCE_JSON.read_text())
    record = store.put(document, str(PCA_REFERENCE_JSON))
    assert record.guid == "pca_output_testfile"  # its GUID is the placeholder "None"
    assert store.get("pca_output_testfile") == record
    assert record.talk.interruptions == 1 and record.talk.interruption_seconds == 2.96  # read back from the item
    assert record.categories == ()  # the sample's only category has 0 instances
    assert record.entities["ORGANIZATION"] == ("Networks abc",)
    assert (record.customer_sentiment, record.customer_sentiment_change) == (1.7, -2.5)
    assert _guids(store, entity_value="networks ABC") == ["pca_output_testfile"]
    assert _guids(store, sentiment_change="worsening", customer_sentiment_above=1.5) == ["pca_output_testfile"]


@pytest.fixture(scope="module")
def three(endpoint):
    """The three calls of tests/test_store.py, in one table for the filter tests."""
    with open_dynamodb_store(_url(endpoint)) as opened:
        for conversation in sample_calls():
            opened.put(to_pca(conversation), f"{conversation.metadata.guid}.json")
        yield opened


@pytest.mark.parametrize(("filters", "expected", "partition"), [
    ({}, ["g3", "g2", "g1"], "CALLS"),
    ({"since": datetime(2025, 2, 20)}, ["g3", "g2"], "CALLS"),
    ({"until": datetime(2025, 2, 21)}, ["g2", "g1"], "CALLS"),
    ({"agent": "ChrisL"}, ["g3", "g1"], "AGENT#ChrisL"),
    ({"sentiment_change": "improving"}, ["g1"], "TREND#improving"),
    ({"sentiment_change": "worsening"}, ["g2"], "TREND#worsening"),
    ({"entity_value": "paris"}, ["g3", "g1"], "ENTV#paris"),
    ({"entity_type": "location", "entity_value": "PARIS"}, ["g1"], "ENT#LOCATION#paris"),
    ({"entity_type": "PERSON"}, ["g3"], "ENTT#PERSON"),
    ({"category": "billing"}, ["g2"], "CAT#billing"),
    ({"language": "fr"}, ["g2"], "LANG#fr"),
    ({"text": "card Paris"}, ["g1"], "CALLS"),
    ({"text": "address"}, ["g3"], "CALLS"),
    ({"text": 'AND "NEAR*'}, [], "CALLS"),  # punctuation in user text is no syntax
    ({"agent": "ChrisL", "since": datetime(2025, 2, 20)}, ["g3"], "AGENT#ChrisL"),
    ({"category": "complaint", "language": "fr", "agent": "Ann"}, ["g2"], "CAT#complaint"),
    ({"entity_value": "paris", "agent": "ChrisL", "text": "address"}, ["g3"], "ENTV#paris"),
    ({"language": "en-US", "sentiment_change": "improving"}, ["g1"], "LANG#en-US"),
    ({"entity_type": "PERSON", "category": "billing"}, [], "CAT#billing"),
    ({"since": datetime(2025, 2, 22), "until": datetime(2025, 2, 20)}, [], None),  # an empty range asks nothing
])
def test_each_filter_queries_the_index_of_its_most_selective_filter(three, filters, expected, partition):
    requests = Requests(three.client)
    assert _guids(three, **filters) == expected
    assert three.count(SearchQuery(**filters)) == len(expected)
    assert three.figures(SearchQuery(**filters, limit=1)) == [CallFigures.of(three.get(guid)) for guid in expected]
    assert not requests.named("Scan")
    queries = [q for q in requests.named("Query") if q.get("IndexName") == "GSI1"]
    if partition is None:
        assert not requests.named("Query")
        return
    assert queries and all(q["ScanIndexForward"] is False for q in queries)
    assert {q["ExpressionAttributeValues"][":pk"]["S"] for q in queries} == {partition}
    if filters.get("since"):
        assert "BETWEEN" in queries[0]["KeyConditionExpression"] or ">=" in queries[0]["KeyConditionExpression"]


def test_filters_an_index_entry_carries_run_in_dynamodb(three):
    requests = Requests(three.client)
    assert _guids(three, agent="ChrisL", language="en-US", customer_sentiment_below=5) == ["g3", "g1"]
    (query,) = requests.named("Query")
    assert query["ExpressionAttributeValues"][":pk"]["S"] == "AGENT#ChrisL"
    assert query["FilterExpression"] == "#lang = :lang AND #cs < :csbelow"
    requests.clear()
    assert three.count(SearchQuery(language="fr")) == 1  # served by the index alone: no call item read
    assert [q.get("Select") for q in requests.named("Query")] == ["COUNT"] and not requests.named("BatchGetItem")


def test_customer_sentiment_bounds(three):
    scores = {guid: three.get(guid).customer_sentiment for guid in ("g1", "g2", "g3")}
    assert scores["g3"] < scores["g1"] < scores["g2"]
    middle = scores["g1"]
    assert set(_guids(three, customer_sentiment_below=middle)) == {g for g, s in scores.items() if s < middle}
    assert set(_guids(three, customer_sentiment_above=middle)) == {g for g, s in scores.items() if s > middle}
    # a threshold DynamoDB cannot hold is applied on the call items, as SQLite would (NaN compares false)
    assert _guids(three, customer_sentiment_below=float("nan")) == [] == _guids(three, language="fr",
                                                                                 customer_sentiment_above=float("nan"))
    assert three.count(SearchQuery(customer_sentiment_below=float("nan"))) == 0
    assert three.count(SearchQuery(customer_sentiment_below=float("inf"))) == 3


def _varied(count: int) -> list[dict]:
    """count PCA documents: pairs share a time, every seventh has none, agents, languages, categories,
    entities and words vary. GUIDs ascend in load order, so both stores break ties alike."""
    agents, languages = ["Ann", "Bob", "ChrisL"], ["en", "fr", "de"]
    texts = ["my card is lost", "the bill is wrong", "change my address", "my card and my bill"]
    documents = []
    for index in range(count):
        conversation = _call(
            f"call-{index:03d}", datetime(2025, 1, 1) + timedelta(hours=index // 2), agent=agents[index % 3],
            customer_start=float(index % 5 - 2), customer_end=float(index % 4 - 1), language=languages[index // 3 % 3],
            text=texts[index % 4],
            entities=(("LOCATION", ["Paris", "Lyon"][index % 2]),) + ((("PERSON", "Bob"),) if index % 4 == 0 else ()),
            categories=(("billing",) if index % 3 == 1 else ()) + (("complaint",) if index % 5 == 0 else ()))
        document = to_pca(conversation)
        if index % 7 == 3:
            document["ConversationAnalytics"]["ConversationTime"] = None
        documents.append(document)
    return documents


@pytest.fixture(scope="module")
def sixty(endpoint, tmp_path_factory):
    """The same 60 varied calls in a DynamoDB table and in a SQLite store (the oracle)."""
    oracle = SqliteStore(tmp_path_factory.mktemp("oracle") / "calls.db")
    with open_dynamodb_store(_url(endpoint)) as opened:
        for index, document in enumerate(_varied(60)):
            opened.put(document, f"{index}.json")
            oracle.put(document, f"{index}.json")
        yield opened, oracle
    oracle.close()


def _walk(store, limit: int, **filters) -> list[str]:
    seen, token = [], None
    while True:
        page = store.search(SearchQuery(limit=limit, continuation=token, **filters))
        assert page.records or token is None  # a token never leads to an empty page
        seen += [record.guid for record in page.records]
        token = page.continuation
        if token is None:
            return seen


@pytest.mark.parametrize("filters", [
    {}, {"agent": "Bob"}, {"text": "bill"}, {"category": "billing", "language": "fr"},
    {"entity_value": "lyon", "sentiment_change": "worsening"}, {"until": datetime(2025, 1, 1, 20)},
    {"since": datetime(2025, 1, 1, 5), "text": "address", "customer_sentiment_above": -1.5},
    {"entity_type": "PERSON", "category": "complaint"}, {"language": "en-US", "customer_sentiment_below": 0},
])
def test_pages_walk_every_call_once_newest_first_as_sqlite_does(sixty, filters):
    dynamodb, oracle = sixty
    expected = _walk(oracle, 1000, **filters)
    assert expected  # each case matches something
    assert _walk(dynamodb, 7, **filters) == expected
    assert dynamodb.count(SearchQuery(**filters)) == len(expected)


def test_calls_without_a_time_come_last_and_pagination_is_exact(sixty):
    dynamodb, _ = sixty
    walked = _walk(dynamodb, 7)
    assert len(walked) == len(set(walked)) == 60
    times = [dynamodb.get(guid).conversation_time for guid in walked]
    timed = [moment for moment in times if moment]
    assert times[:len(timed)] == sorted(timed, reverse=True) and times[len(timed):] == [None] * 9
    first = dynamodb.search(SearchQuery(limit=7))
    second = dynamodb.search(SearchQuery(limit=7, continuation=first.continuation))
    assert [r.guid for r in first.records + second.records] == walked[:14]
    exact = dynamodb.search(SearchQuery(limit=60))
    assert len(exact.records) == 60 and exact.continuation is None  # a last full page gives no token


def test_a_sparse_filter_keeps_reading_until_the_page_is_full(sixty):
    dynamodb, oracle = sixty
    requests = Requests(dynamodb.client)
    page = dynamodb.search(SearchQuery(text="address", agent="Ann", limit=2))  # 5 of Ann's 20 calls
    assert [r.guid for r in page.records] == [r.guid for r in oracle.search(SearchQuery(
        text="address", agent="Ann", limit=2)).records]
    assert page.continuation
    limits = [q["Limit"] for q in requests.named("Query")]
    assert len(limits) > 1 and limits == sorted(limits)  # the batch grows while filters discard entries


def test_bad_continuation_tokens_are_one_line_errors(sixty):
    dynamodb, _ = sixty
    for token in ("not-a-token", "zz", "WyJ4Il0=", "WyJkMSIsIDVd"):  # ... '["x"]', '["d1", 5]'
        with pytest.raises(StoreError, match="continuation token") as caught:
            dynamodb.search(SearchQuery(continuation=token))
        assert "\n" not in str(caught.value)


# The SQLite store's test, run here on this module's `store`.
test_bad_documents_are_refused_with_a_reason = test_store.test_bad_documents_are_refused_with_a_reason


def test_a_call_with_more_items_than_a_transaction_is_written_in_batches(store):
    many = tuple(("PERSON", f"Person {index}") for index in range(70))  # 140 index items
    requests = Requests(store.client)
    store.put(to_pca(_call("big", datetime(2025, 3, 1), entities=many)), "big.json")
    assert not requests.named("TransactWriteItems") and requests.named("BatchWriteItem")
    assert _guids(store, entity_type="person", entity_value="person 42") == ["big"]
    assert len(_item_keys(store, "big")) == 1 + 3 + 140  # call; agent, language, ENTT; ENT and ENTV each

    requests.clear()
    store.put(to_pca(_call("big", datetime(2025, 3, 1), entities=many[:2])), "big.json")
    deleted = [request["DeleteRequest"]["Key"]["SK"]["S"] for batch in requests.named("BatchWriteItem")
               for request in batch["RequestItems"][store.table] if "DeleteRequest" in request]
    assert len(deleted) == 136 and "IDX#ENTV#person 42" in deleted
    assert _guids(store, entity_value="person 42") == [] and _guids(store, entity_value="Person 1") == ["big"]
    assert len(_item_keys(store, "big")) == 1 + 3 + 4


def test_an_entity_too_long_for_a_key_is_indexed_by_its_hash(store):
    long_value = "Paris " * 400  # 2,400 bytes: over DynamoDB's 1,024-byte sort key and 2,048-byte partition key
    store.put(to_pca(_call("long-entity", datetime(2025, 3, 1), entities=(("LOCATION", long_value),))), "x.json")
    assert any("sha256:" in key for key in _item_keys(store, "long-entity"))
    assert all(len(key.encode()) <= 1024 for key in _item_keys(store, "long-entity"))
    assert _guids(store, entity_value=long_value.upper()) == ["long-entity"]
    assert _guids(store, entity_type="LOCATION", entity_value=long_value) == ["long-entity"]
    assert _guids(store, entity_value=long_value[:-7]) == []


def test_a_transaction_that_lost_to_another_writer_is_retried(store, calls):
    from botocore.stub import Stubber

    requests = Requests(store.client)
    with Stubber(store.client) as stub:
        stub.add_response("query", {"Items": [], "Count": 0, "ScannedCount": 0})
        stub.add_client_error("transact_write_items", "TransactionCanceledException", "Transaction cancelled", 400,
                              modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}]})
        stub.add_response("query", {"Items": [{"SK": {"S": "CALL"}, "ver": {"S": "v-other"}},
                                              {"SK": {"S": "IDX#AGENT#Other"}}],
                                    "Count": 2, "ScannedCount": 2})  # the other writer's call: read again
        stub.add_response("transact_write_items", {})
        store.put(to_pca(calls[0]), "g1.json")
        stub.assert_no_pending_responses()
    first, second = requests.named("TransactWriteItems")
    assert not [action for action in first["TransactItems"] if "Delete" in action]
    assert [action["Put"].get("ConditionExpression") for action in first["TransactItems"]][-1] == (
        "attribute_not_exists(#pk)")
    assert [action["Put"]["ExpressionAttributeValues"] for action in second["TransactItems"]
            if "ConditionExpression" in action.get("Put", {})] == [{":ver": {"S": "v-other"}}]
    assert [action["Delete"]["Key"]["SK"]["S"] for action in second["TransactItems"] if "Delete" in action] == [
        "IDX#AGENT#Other"]
    # a transaction cancelled for another reason (a condition, a validation) is an error, at once
    with Stubber(store.client) as stub:
        stub.add_response("query", {"Items": [], "Count": 0, "ScannedCount": 0})
        stub.add_client_error("transact_write_items", "TransactionCanceledException", "Transaction cancelled", 400,
                              modeled_fields={"CancellationReasons": [{"Code": "ValidationError"}]})
        with pytest.raises(StoreError, match=r"^dynamodb://t-\w+: TransactionCanceledException"):
            store.put(to_pca(calls[0]), "g1.json")


@pytest.mark.parametrize("entities", [0, 60], ids=["transaction", "batches"])
def test_a_writer_overtaken_between_its_read_and_its_write_reads_again(endpoint, entities):
    """Two loads of one GUID at once: B replaces the call after A read it; A's write must notice, read again
    and delete B's index items, or they would outlive B's call item (and count() would count them)."""
    url, when = _url(endpoint), datetime(2025, 2, 20, 6, 0)
    with open_dynamodb_store(url) as first, open_dynamodb_store(url) as second:
        first.put(to_pca(_call("g2", when, categories=("billing",))), "g2.json")
        overtaken = []

        def overtake(model: Any, **_: Any) -> None:
            if model.name == "Query" and not overtaken:
                overtaken.append(True)
                second.put(to_pca(_call("g2", when, agent="Bea", categories=("refund",))), "g2.json")

        first.client.meta.events.register("after-call.dynamodb.Query", overtake)
        requests = Requests(first.client)
        many = tuple(("PERSON", f"P{index}") for index in range(entities))  # 60: more than a transaction holds
        first.put(to_pca(_call("g2", when, agent="Ann", entities=many)), "g2.json")
        assert overtaken and len(requests.named("Query")) == 2  # read, overtaken, read again
        assert first.get("g2").categories == () and first.get("g2").agent == "Ann"
        assert not {key for key in _item_keys(first, "g2") if key.startswith(("IDX#CAT#", "IDX#AGENT#Bea"))}
        assert first.count(SearchQuery(category="refund")) == 0 == first.count(SearchQuery(agent="Bea"))


def test_an_enormous_transcript_goes_to_chunk_items(store, monkeypatch):
    monkeypatch.setattr(dynamodb_items, "INLINE_TEXT_BYTES", 100)
    monkeypatch.setattr(dynamodb_items, "CHUNK_BYTES", 64)
    words = " ".join(f"word{index}" for index in range(300))
    store.put(to_pca(_call("long", datetime(2025, 3, 2), text=words + " zebra")), "long.json")
    chunks = {key for key in _item_keys(store, "long") if key.startswith("TEXT#")}
    assert len(chunks) > 3
    assert "word299 zebra" in store.transcript("long")
    assert _guids(store, text="zebra word7") == ["long"] and _guids(store, text="giraffe") == []

    monkeypatch.setattr(dynamodb_items, "INLINE_TEXT_BYTES", 300_000)
    store.put(to_pca(_call("long", datetime(2025, 3, 2), text="short now")), "long.json")
    assert not {key for key in _item_keys(store, "long") if key.startswith("TEXT#")}  # old chunks deleted
    assert _guids(store, text="short") == ["long"] and _guids(store, text="zebra") == []


def test_a_missing_table_and_bad_urls_are_one_line_errors(endpoint):
    with pytest.raises(StoreError) as missing:
        open_store(_url(endpoint, "no-such-table", create=False))
    assert str(missing.value).startswith(f"dynamodb://no-such-table: no such table in {REGION} (create it with")
    with pytest.raises(StoreError, match="unknown option 'regoin'"):
        open_store("dynamodb://calls?regoin=eu-west-1")
    with pytest.raises(StoreError, match="not dynamodb://TABLE"):
        open_store("dynamodb://x")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    client.create_table(TableName="other-shape", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    with pytest.raises(StoreError, match="other-shape: not a callscope store table"):
        open_store(_url(endpoint, "other-shape"))


def test_region_and_endpoint_come_from_the_url_or_the_environment(endpoint, monkeypatch):
    with open_store(_url(endpoint) + "&region=us-west-2") as western:
        assert western.client.meta.region_name == "us-west-2"
        western.put(to_pca(_call("w1", datetime(2025, 1, 1))), "w1.json")
        name = western.table
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)  # botocore's own setting
    with open_store(f"dynamodb://{name}?region=us-west-2") as again:
        assert _guids(again) == ["w1"]
    with pytest.raises(StoreError, match=f"no such table in {REGION}"):
        open_store(f"dynamodb://{name}")  # tables live in one region


def test_aws_errors_are_one_line_store_errors_naming_the_table(store, monkeypatch):
    from botocore.stub import Stubber

    with Stubber(store.client) as stub:
        stub.add_client_error("query", "AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized to "
                              "perform: dynamodb:Query on resource: table\nmore", 400)
        with pytest.raises(StoreError) as denied:
            store.search(SearchQuery(agent="x"))
        stub.add_client_error("query", "ProvisionedThroughputExceededException", "Rate exceeded", 400,
                              response_meta={"RetryAttempts": 7})
        with pytest.raises(StoreError) as throttled:
            store.count(SearchQuery(language="fr"))
    where = store.location
    assert str(denied.value) == (f"{where}: access denied (AccessDeniedException): User: arn:aws:iam::1:user/x is not "
                                 "authorized to perform: dynamodb:Query on resource: table")
    assert str(throttled.value).startswith(f"{where}: throttled by DynamoDB (ProvisionedThroughputExceededException)"
                                           " after 8 attempts")

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    with pytest.raises(StoreError, match=r"^dynamodb://nocreds: no AWS credentials"):
        open_store("dynamodb://nocreds?endpoint_url=http://127.0.0.1:9")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(StoreError, match="nocreds: no AWS region"):
        open_store("dynamodb://nocreds")


def test_load_and_search_commands(endpoint, tmp_path, calls):
    url = _url(endpoint)
    runner = CliRunner()
    missing = runner.invoke(main, ["search", "--store", _url(endpoint, "absent", create=False)])
    assert missing.exit_code == 1 and "dynamodb://absent: no such table" in missing.output
    assert "Traceback" not in missing.output

    loaded = runner.invoke(main, ["load", str(_results(tmp_path, calls)), "--store", url])
    assert loaded.exit_code == 1, loaded.output  # the corrupt and malformed files
    table = url.split("?")[0]
    assert loaded.output.splitlines()[-1] == f"4 loaded, 1 skipped, 2 failed (4 calls in {table})"
    again = runner.invoke(main, ["load", str(tmp_path / "results")], env={"CALLSCOPE_STORE": url})
    assert again.exit_code == 1 and "(4 calls in" in again.output  # re-loading replaces

    check_search_command(url)


def test_load_of_good_files_exits_zero(endpoint, tmp_path, calls):
    _write(tmp_path, calls[0])
    outcome = CliRunner().invoke(main, ["load", str(tmp_path), "--store", _url(endpoint)])
    assert outcome.exit_code == 0 and "1 loaded, 0 skipped, 0 failed" in outcome.output
