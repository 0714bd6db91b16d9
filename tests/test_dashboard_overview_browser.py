"""The overview and the call list in headless Chromium (tests/browser.py), on the store of real analysed
calls (conftest's analysed_store): charts drawn without script errors, the list fitting every window
from 1024 px, sorting, choices, copying a GUID, and the worst call two clicks from the overview."""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser import VIEWPORT, check_screenshot, horizontal_overflow, require_browser, save, wait_until
from tests.dashboard_server import Server

require_browser()


@pytest.fixture(scope="module")
def server(analysed_store):
    path, results = analysed_store
    running = Server("--store", str(path), "--data", str(results))
    yield running
    running.stop()


def sql(path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(query).fetchall()


def test_overview_draws_its_charts_and_a_bar_opens_its_calls(server, page):
    page.goto(server.url + "/")
    assert page.url.endswith("/overview")
    assert page.locator("#chart-calls rect.bar").count() > 1
    assert page.locator("#chart-sentiment circle").count() > 1
    assert page.locator("#chart-categories rect.bar").count() > 0
    assert page.locator("#chart-lengths rect.bar").count() > 0
    assert page.locator("#chart-shares rect.bar").count() == 3
    assert horizontal_overflow(page) == 0
    check_screenshot(page.screenshot(full_page=True), VIEWPORT["width"], VIEWPORT["height"])

    # calls from 2021 to today (the stereo calls were analysed today) are counted per month
    bar = page.locator("#chart-calls a", has=page.locator("title", has_text="Feb 2025: 4 calls"))
    bar.locator("rect").click()
    page.wait_for_url("**/calls?*since=2025-02-01*")
    assert sorted(row.get_attribute("data-guid") for row in page.locator("table.calls tbody tr").all()) == \
        ["101", "102", "103", "104"]

    page.goto(server.url + "/overview?since=2025-02-01&until=2025-03-01")  # the named calls, a day each
    assert page.locator("#chart-calls rect.bar").count() == 5  # Feb 20-24, days without calls included
    png = page.screenshot(full_page=True)
    check_screenshot(png, VIEWPORT["width"], VIEWPORT["height"])
    save(png, "overview.png")
    assert page.errors == []


def test_the_worst_call_is_two_clicks_from_the_overview(server, page, analysed_store):
    path, _ = analysed_store
    ((worst,),) = sql(path, "SELECT guid FROM calls WHERE customer_sentiment IS NOT NULL"
                            " ORDER BY customer_sentiment, conversation_time DESC LIMIT 1")
    page.goto(server.url + "/overview")
    page.click("#tile-customer")
    page.wait_for_url("**/calls?*sort=customer_sentiment*")
    page.locator("table.calls tbody tr").first.locator("td.guid a").click()
    page.wait_for_url(f"**/calls/{worst}")
    assert page.errors == []


@pytest.mark.parametrize("width", [1024, 1400, 1920])
def test_the_list_fits_the_window(server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(server.url + "/calls")
    assert page.locator("table.calls tbody tr").count() == 7
    assert horizontal_overflow(page) == 0
    table_overflow = page.evaluate("(() => { const t = document.querySelector('table.calls');"
                                   " return t.scrollWidth - t.parentElement.clientWidth; })()")
    assert table_overflow <= 0
    # every row one line high: categories collapse to chips and "+N"
    heights = page.evaluate("[...document.querySelectorAll('table.calls tbody tr')].map(r => r.offsetHeight)")
    assert max(heights) < 50, heights
    if width == VIEWPORT["width"]:
        png = page.screenshot(full_page=True)
        check_screenshot(png, width, 900)
        save(png, "call-list.png")
    assert page.errors == []


def test_sorting_and_choices_change_the_rows(server, page, analysed_store):
    path, _ = analysed_store
    page.goto(server.url + "/calls")
    page.click("a.sort[data-sort=customer_sentiment]")
    page.wait_for_url("**sort=customer_sentiment*")
    lowest = min(value for value, in sql(path, "SELECT customer_sentiment FROM calls WHERE customer_sentiment"
                                               " IS NOT NULL"))
    assert page.locator("table.calls tbody tr .chip").first.inner_text() == f"{lowest:+.2f}"
    page.click("a.sort[data-sort=customer_sentiment]")  # again: best first
    page.wait_for_url("**sort=-customer_sentiment*")
    highest = max(value for value, in sql(path, "SELECT customer_sentiment FROM calls"))
    assert page.locator("table.calls tbody tr .chip").first.inner_text() == f"{highest:+.2f}"

    page.select_option("select[name=agent]", "Raj")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**agent=Raj*")
    rows = page.locator("table.calls tbody tr").all()
    assert sorted(row.get_attribute("data-guid") for row in rows) == ["102", "103"]
    assert "sort=-customer_sentiment" in page.url  # the sort stays with the filter
    assert page.errors == []


def test_the_copy_button_copies_the_whole_guid(server, browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    opened = context.new_page()
    opened.goto(server.url + "/calls?sort=customer")
    guid = opened.locator("table.calls tbody tr").first.get_attribute("data-guid")
    cell = opened.locator("table.calls tbody tr").first.locator("td.guid")
    cell.locator("button.copy").click()
    wait_until(opened, "document.querySelector('button.copy.done') !== null")
    assert opened.evaluate("navigator.clipboard.readText()") == guid
    context.close()
