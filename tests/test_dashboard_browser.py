"""The dashboard in headless Chromium (tests/browser.py): the list and its filters, a call page's
transcript, charts and audio sync, escaping, and screenshots."""

from __future__ import annotations

import pytest

from tests.browser import VIEWPORT, check_screenshot, require_browser, save, wait_until
from tests.dashboard_server import SAMPLE_TURNS, Server, build

require_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    dataset = build(tmp_path_factory.mktemp("browser"))
    running = Server("--store", str(dataset.store), "--data", str(dataset.data))
    yield running
    running.stop()


def test_list_shows_the_calls_and_a_filter_narrows_them(server, page):
    page.goto(server.url + "/calls")
    rows = page.locator("table.calls tbody tr")
    assert rows.count() == 17
    assert page.locator("tr[data-guid='g3'] .chip").inner_text() == "-3.00"
    assert "s-neg2" in page.locator("tr[data-guid='g3'] .chip").get_attribute("class")
    png = page.screenshot(full_page=True)
    check_screenshot(png, VIEWPORT["width"], VIEWPORT["height"])

    page.select_option("select[name=agent]", "ChrisL")
    page.select_option("select[name=sentiment_change]", "improving")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/calls?*agent=ChrisL*")
    assert [row.get_attribute("data-guid") for row in rows.all()] == ["g1"]
    page.select_option("select[name=agent]", "")
    page.select_option("select[name=sentiment_change]", "")
    page.fill("input[name=text]", "Yankee")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**text=Yankee*")
    assert rows.count() == 9 and page.input_value("input[name=text]") == "Yankee"
    page.click("tr[data-guid='sample-call'] a")
    page.wait_for_url("**/calls/sample-call")
    assert page.errors == []


def test_call_page_transcript_charts_and_audio_sync(server, page):
    page.goto(server.url + "/calls/sample-call")
    turns = page.locator("#turns .turn")
    assert turns.count() == len(SAMPLE_TURNS)
    assert [turns.nth(i).locator(".speaker").inner_text() for i in range(3)] == ["Agent", "Customer", "Agent"]
    assert turns.nth(5).locator(".text").inner_text() == SAMPLE_TURNS[5][3]
    assert page.locator("svg#timeline rect.band").count() == len(SAMPLE_TURNS)
    assert page.locator("svg#sentiment-quarters circle.quarter-point").count() == 8
    assert page.locator("svg#timeline rect.loud").count() > len(SAMPLE_TURNS)
    assert page.locator("svg#talk-time rect.bar").count() == 3

    # the recording loads through the dashboard (Range requests) and is the real 30 s sample
    wait_until(page, "document.getElementById('audio').readyState >= 1")
    assert abs(page.evaluate("document.getElementById('audio').duration") - 30.0) < 0.1

    later = 7
    start = SAMPLE_TURNS[later][1]
    turns.nth(later).click()
    wait_until(page, f"Math.abs(document.getElementById('audio').currentTime - {start}) < 1.5")
    assert "current" in turns.nth(later).get_attribute("class")
    assert page.locator(".turn.current").count() == 1
    assert "current" in page.locator(f"#timeline rect.band[data-turn='{later}']").get_attribute("class")
    # the word being said is lit, inside the turn being said
    wait_until(page, "document.querySelector('#turns .w.playing') !== null")
    lit = page.locator("#turns .w.playing")
    assert float(lit.get_attribute("data-start")) <= page.evaluate("document.getElementById('audio').currentTime") + 0.3

    # a band of the timeline seeks too
    page.evaluate("document.getElementById('audio').pause()")
    page.locator("#timeline rect.band[data-turn='2']").click(force=True)
    wait_until(page, f"Math.abs(document.getElementById('audio').currentTime - {SAMPLE_TURNS[2][1]}) < 1.5")
    assert "current" in turns.nth(2).get_attribute("class") and page.locator(".turn.current").count() == 1

    # and so does a click on the timeline between bands: at 20% of the axis, 20% of the call
    page.evaluate("document.getElementById('audio').pause()")
    box = page.locator("#timeline").bounding_box()
    left, right = 96 / 860 * box["width"], 852 / 860 * box["width"]
    page.mouse.click(box["x"] + left + 0.2 * (right - left), box["y"] + box["height"] - 30)
    wait_until(page, "Math.abs(document.getElementById('audio').currentTime - 6.0) < 1.0")

    page.evaluate("document.getElementById('audio').pause(); window.scrollTo(0, 0)")
    # entity marks sit inside the text and toggle by type
    texas = turns.nth(5).locator(".text mark.m-LOCATION", has_text="Texas")
    assert texas.count() == 1 and "on" in texas.get_attribute("class")
    page.uncheck("#mark-toggles input[data-mark=LOCATION]")
    assert "on" not in texas.get_attribute("class").split()
    page.check("#mark-toggles input[data-mark=LOCATION]")
    assert "on" in texas.get_attribute("class").split()

    # search marks the matches and dims the turns without one
    page.fill("#transcript-search", "new jersey")
    assert page.locator("#search-count").inner_text() == "3 matches"
    assert page.locator("#turns .turn.no-hit").count() == len(SAMPLE_TURNS) - 3
    # a match across words is lit in each of its pieces
    assert "".join(turns.nth(6).locator("mark.hit").all_inner_texts()) == "New Jersey"
    page.fill("#transcript-search", "")
    assert page.locator("#turns mark.hit").count() == 0 and page.locator("#turns .turn.no-hit").count() == 0
    assert turns.nth(5).locator(".text").inner_text() == SAMPLE_TURNS[5][3]  # the text as it was
    page.evaluate("window.scrollTo(0, 0)")
    png = page.screenshot(full_page=True)
    check_screenshot(png, VIEWPORT["width"], VIEWPORT["height"])
    save(png, "call-page.png")
    assert page.errors == []


def test_injected_markup_never_runs(server, page):
    for path in ("/calls/xss-call", "/?agent=Eve%3Cb%3E", "/api/docs"):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None
    page.goto(server.url + "/calls/xss-call")
    text = page.locator("#turns .turn").nth(1).locator(".text").inner_text()
    assert "<script>window.__xss = 1; alert(1)</script>" in text and '<img src=x onerror="window.__xss = 2">' in text
    assert page.locator("#turns img").count() == 0 and page.locator("main script").count() == 0
    assert page.dialogs == []


def test_api_docs_page_sends_a_request(server, page):
    page.goto(server.url + "/api/docs")
    operation = page.locator("details.op", has_text="/api/calls  ").first
    operation.locator("summary").click()
    operation.locator("input[name=agent]").fill("Ann")
    operation.locator("button.send").click()
    answer = operation.locator("pre")
    wait_until(page, "document.querySelector('details.op pre').textContent.includes('200')")
    assert '"guid": "g2"' in answer.inner_text() and '"guid": "g1"' not in answer.inner_text()


def test_an_unreadable_call_is_a_clear_page(server, page):
    response = page.goto(server.url + "/calls/corrupt-call")
    assert response.status == 422
    assert "is not valid JSON" in page.locator(".error-message").inner_text()
