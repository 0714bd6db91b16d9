"""The overview page (/overview) on a store of real analysed calls: its figures are those of SQL
queries over the same SQLite file, with and without filters; links lead into the filtered call list,
and the list sorts and offers the store's values as choices."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.dashboard_server import Server

FEBRUARY = "since=2025-02-01&until=2025-03-01"


@pytest.fixture(scope="module")
def store(analysed_store):
    return analysed_store


@pytest.fixture(scope="module")
def server(store):
    path, results = store
    running = Server("--store", str(path), "--data", str(results))
    yield running
    log = running.stop()
    assert "Traceback" not in log, log


def sql(path, query: str, *params) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(query, params).fetchall()


def page_of(server, url: str) -> str:
    status, _, body = server.request(url)
    assert status == 200, body[:300]
    return html.unescape(body.decode())


def tile(page: str, name: str) -> str:
    return re.search(rf'id="tile-{name}".*?class="figure">(.*?)</span>', page, re.S)[1]


def titles(page: str, chart: str) -> list[str]:
    svg = re.search(rf'<svg id="chart-{chart}".*?</svg>', page, re.S)[0]
    return re.findall(r"<title>(.*?)</title>", svg)


def signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"


def test_the_dashboard_opens_on_the_overview_and_old_list_links_still_work(server):
    status, headers, _ = server.request("/")
    assert status == 307 and headers["location"] == "/overview"
    status, headers, _ = server.request("/?agent=Ann")
    assert status == 307 and headers["location"] == "/calls?agent=Ann"


def test_key_figures_and_agents_match_sql(server, store):
    path, _ = store
    page = page_of(server, "/overview")
    ((calls, negative, customer, agent, interruptions),) = sql(
        path, "SELECT count(*), sum(customer_sentiment < -1), avg(customer_sentiment), avg(agent_sentiment),"
              " sum(interruptions) FROM calls")
    assert calls == 7 and tile(page, "calls") == "7" and tile(page, "negative") == str(negative)
    assert signed(customer) in tile(page, "customer") and signed(agent) in tile(page, "agent")
    assert tile(page, "interruptions").strip() == str(interruptions)

    rows = sql(path, "SELECT agent, count(*), avg(customer_sentiment), avg(agent_sentiment), sum(agent_interruptions),"
                     " sum(customer_sentiment < -1) FROM calls GROUP BY agent")
    assert {row[0] for row in rows} == {"Ann", "Raj", ""}  # the stereo calls and the reference name no agent
    for name, count, customer, agent, by_agent, negative in rows:
        row = re.search(rf'<tr data-agent="{re.escape(name)}">(.*?)</tr>', page, re.S)[1]
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert cells[1:] == [str(count), signed(customer), signed(agent), str(by_agent), str(negative)], name


def test_calls_over_years_are_counted_per_month(server, store):
    path, _ = store
    per_month = dict(sql(path, "SELECT strftime('%Y-%m', conversation_time), count(*) FROM calls GROUP BY 1"))
    bars = titles(page_of(server, "/overview"), "calls")
    # from the reference's 2021 call to the stereo calls analysed today, every month once
    first, last = min(per_month), max(per_month)
    months = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1
    assert len(bars) == months and bars[0].startswith("Nov 2021")
    assert "Feb 2025: 4 calls" in bars and sum(int(re.search(r": (\d+) call", bar)[1]) for bar in bars) == 7


def test_charts_match_sql_per_day_category_and_time_share(server, store):
    path, _ = store
    page = page_of(server, f"/overview?{FEBRUARY}")
    per_day = sql(path, "SELECT date(conversation_time), count(*), avg(customer_sentiment), avg(agent_sentiment)"
                        " FROM calls WHERE conversation_time >= '2025-02-01' AND conversation_time < '2025-03-01'"
                        " GROUP BY 1")
    # every day from the first to the last call, days without calls included
    bars = titles(page, "calls")
    assert len(bars) == 5 and bars[0].startswith("Feb 20") and bars[-1].startswith("Feb 24")
    for day, count, customer, agent in per_day:
        label = f"Feb {int(day[-2:])}, 2025"
        assert f"{label}: {count} call{'' if count == 1 else 's'}" in bars
        assert f"{label}: customer {signed(customer)}" in titles(page, "sentiment")
        assert f"{label}: agent {signed(agent)}" in titles(page, "sentiment")
    assert "Feb 22, 2025: 0 calls" in bars
    assert not any(title.startswith("Feb 22") for title in titles(page, "sentiment"))

    categories = sql(path, "SELECT name, count(*) FROM call_categories JOIN calls ON calls.id = call_id"
                           " WHERE conversation_time >= '2025-02-01' AND conversation_time < '2025-03-01'"
                           " GROUP BY name ORDER BY count(*) DESC, name")
    assert categories, "the analysed calls matched no category"
    assert titles(page, "categories") == [f"{name}: {count} call{'' if count == 1 else 's'}"
                                          for name, count in categories[:12]]

    ((agent, customer, non_talk),) = sql(
        path, "SELECT sum(agent_talk) / sum(duration), sum(customer_talk) / sum(duration),"
              " sum(non_talk) / sum(duration) FROM calls"
              " WHERE conversation_time >= '2025-02-01' AND conversation_time < '2025-03-01'")
    assert titles(page, "shares") == [f"Agent talk: {agent:.0%} of call time",
                                      f"Customer talk: {customer:.0%} of call time",
                                      f"Non-talk: {non_talk:.0%} of call time"]
    lengths = titles(page, "lengths")
    assert sum(int(re.search(r": (\d+) call", title)[1]) for title in lengths) == 4


def test_filters_apply_to_every_figure(server, store):
    path, _ = store
    page = page_of(server, f"/overview?{FEBRUARY}&agent=Raj")
    ((count, customer),) = sql(path, "SELECT count(*), avg(customer_sentiment) FROM calls WHERE agent = 'Raj'")
    assert count == 2 and tile(page, "calls") == "2" and signed(customer) in tile(page, "customer")
    assert re.findall(r'<tr data-agent="([^"]*)">', page) == ["Raj"]
    assert titles(page, "calls") == ["Feb 21, 2025: 2 calls"]
    # the choices still offer every value of the store, the chosen one selected
    assert '<option value="Raj" selected>' in page and '<option value="Ann">' in page

    nothing = page_of(server, "/overview?agent=Nobody")
    assert "No call matches these filters." in nothing and "<svg" not in nothing
    status, _, body = server.request("/overview?since=whenever")
    assert status == 422 and "not a duration" in body.decode()


def test_links_lead_into_the_filtered_list(server, store):
    page = page_of(server, f"/overview?{FEBRUARY}")
    bar = re.search(r'<a href="([^"]+)"><rect class="bar calls"[^>]*><title>Feb 21, 2025: 2 calls', page)[1]
    assert parse_qs(urlsplit(bar).query) == {"since": ["2025-02-21"], "until": ["2025-02-22"]}
    listed = page_of(server, bar)
    assert re.findall(r'<tr data-guid="([^"]+)"', listed) == ["103", "102"]

    agent = re.search(r'<tr data-agent="Ann">\s*<td><a href="([^"]+)">', page)[1]
    assert parse_qs(urlsplit(agent).query) == {"since": ["2025-02-01"], "until": ["2025-03-01"], "agent": ["Ann"]}
    assert re.findall(r'<tr data-guid="([^"]+)"', page_of(server, agent)) == ["104", "101"]


def test_the_list_sorts_worst_customer_first_and_back(server, store):
    path, _ = store
    worst_first = [guid for guid, in sql(path, "SELECT guid FROM calls WHERE customer_sentiment IS NOT NULL"
                                               " ORDER BY customer_sentiment, conversation_time DESC, id DESC")]
    page = page_of(server, "/calls?sort=customer_sentiment")
    assert re.findall(r'<tr data-guid="([^"]+)"', page) == worst_first
    assert 'aria-sort="ascending"' in page
    again = re.search(r'<a class="sort" href="([^"]+)" data-sort="customer_sentiment"', page)[1]
    assert parse_qs(urlsplit(again).query)["sort"] == ["-customer_sentiment"]
    assert re.findall(r'<tr data-guid="([^"]+)"', page_of(server, again))[0] == worst_first[-1]

    # one column sorted a page at a time: every call once across the pages
    first = page_of(server, "/calls?sort=-duration&limit=4")
    following = re.search(r'<a class="next" href="([^"]+)"', first)[1]
    durations = [guid for guid, in sql(path, "SELECT guid FROM calls ORDER BY duration DESC, conversation_time DESC")]
    shown = re.findall(r'<tr data-guid="([^"]+)"', first) + re.findall(r'<tr data-guid="([^"]+)"',
                                                                        page_of(server, following))
    assert shown == durations
    status, _, body = server.request("/calls?sort=colour")
    assert status == 422 and "sort 'colour' is not one of" in html.unescape(body.decode())


def test_the_list_offers_the_store_s_values_and_collapses_categories(server, store):
    path, _ = store
    page = page_of(server, "/calls")
    for column, name in (("agent", "agent"), ("language", "language")):
        stored = sorted({value for value, in sql(path, f"SELECT DISTINCT {column} FROM calls") if value},
                        key=str.casefold)
        select = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S)[1]
        assert re.findall(r'<option value="([^"]+)"', select) == stored
    most = max(sql(path, "SELECT c.guid, count(*) FROM call_categories JOIN calls c ON c.id = call_id GROUP BY c.guid"),
               key=lambda row: row[1])
    assert most[1] > 2
    row = re.search(rf'<tr data-guid="{most[0]}">(.*?)</tr>', page, re.S)[1]
    assert row.count('class="tag"') == 2 and 'class="tag more"' in row and f">+{most[1] - 2}<" in row
    # a short GUID with the whole one to copy
    guid = sql(path, "SELECT guid FROM calls WHERE length(guid) > 12")[0][0]
    assert f'data-copy="{guid}"' in page and f">{guid[:10]}…</a>" in page


def test_the_api_gives_the_overview_and_each_call_s_talk(server, store):
    path, _ = store
    status, body = server.json(f"/api/overview?{FEBRUARY}&agent=Ann")
    ((count, customer, agent_talk, seconds),) = sql(
        path, "SELECT count(*), avg(customer_sentiment), sum(agent_talk), sum(duration) FROM calls WHERE agent = 'Ann'")
    assert status == 200 and body["calls"] == count == 2
    assert body["customer_sentiment"] == pytest.approx(customer)
    assert body["time_shares"]["agent"] == pytest.approx(agent_talk / seconds)
    assert [(period["start"], period["calls"]) for period in body["periods"]] == [
        ("2025-02-20", 1), ("2025-02-21", 0), ("2025-02-22", 0), ("2025-02-23", 0), ("2025-02-24", 1)]
    assert [row["agent"] for row in body["agents"]] == ["Ann"]

    status, body = server.json("/api/calls?agent=Raj")
    talk = {call["guid"]: call["talk"] for call in body["calls"]}
    rows = sql(path, "SELECT guid, agent_talk, interruptions FROM calls WHERE agent = 'Raj'")
    assert len(rows) == len(talk) == 2
    for guid, seconds, interruptions in rows:
        assert talk[guid]["agent_seconds"] == seconds and talk[guid]["interruptions"] == interruptions
    status, body = server.json("/api/overview?since=whenever")
    assert status == 422 and "not a duration" in body["detail"]


def test_a_real_call_page_tells_its_story_from_its_document(server, store):
    path, results = store
    for guid, file in sql(path, "SELECT guid, file FROM calls WHERE guid IN ('101', '103')"
                                " OR file LIKE 'demo-call%' OR file LIKE 'Auto_Repairs%'"):
        document = json.loads((results / file).read_text())
        analytics = document["ConversationAnalytics"]
        raw = server.request(f"/calls/{quote(guid, safe='')}")[2].decode()
        page = html.unescape(raw)
        insights = {item["Name"]: item for item in analytics.get("Insights", [])}
        # the embedded rules pick sentences: the page says they are quotes, not a summary
        assert insights["summary"]["Backend"].startswith("embedded")
        assert "<h2>Key quotes</h2>" in page and "<h2>Summary</h2>" not in page
        outcome = html.unescape(re.search(r'<p class="outcome" id="outcome" title="[^"]*">(.*?)</p>', raw)[1])
        resolved = insights["issue_resolved"]["Value"]["resolved"]
        assert ("the issue was resolved" if resolved else "the issue was not resolved") in outcome
        driver = ((insights.get("call_driver") or {}).get("Value") or {}).get("category", "")
        assert (driver[1:] in outcome) if driver else outcome.startswith("No call driver was found")
        # a mono call's roles are guessed from its words: the page says how sure
        confidence = next(label.get("RoleConfidence") for label in analytics["SpeakerLabels"]
                          if label["DisplayText"] == "Agent")
        role = re.search(r'id="figure-role">(\d+)%<', page)
        assert (role is None) if confidence is None else int(role[1]) == round(confidence * 100)
        # every turn on the timeline, every word of the transcript in the text
        assert page.count('<rect class="band ') == len(document["SpeechSegments"])
