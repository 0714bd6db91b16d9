"""The HTML pages: the overview (/overview, where / leads), the call list (/calls) and a call's page
(/calls/<guid>), from templates/ (autoescaped)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from callscope.dashboard import charts, overview_charts
from callscope.dashboard.api import AUDIO_TYPES, call_urls
from callscope.dashboard.ask import MAX_QUESTION, NO_BACKEND_HINT
from callscope.dashboard.call_story import call_story
from callscope.dashboard.documents import (
    CallView,
    DataPlaces,
    DocumentError,
    call_view,
    find_audio,
    load_document,
    sentiment_class,
)
from callscope.dashboard.guids import CallGuid
from callscope.dashboard.overview import NEGATIVE_BELOW, overview_of
from callscope.dashboard.queries import MAX_LIMIT, CallFilters, FilterError
from callscope.dashboard.sorting import NEWEST, SortError, link_sort, parse_sort, sorted_records
from callscope.dashboard.transcript_marks import SHOWN_TYPES
from callscope.errors import CallscopeError
from callscope.store.base import CallRecord, Facets
from callscope.time_axis import clock

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SHORT_GUID = 10  # characters of a GUID shown in the call list


def _environment() -> Environment:
    # autoescape on every template (they are all HTML): call text never reads as markup.
    environment = Environment(loader=PackageLoader("callscope.dashboard", "templates"),
                              autoescape=select_autoescape(default=True, default_for_string=True),
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(
        clock=clock,
        quote=lambda value: quote(str(value), safe=""),
        sentiment_class=sentiment_class,
        signed=lambda value, digits=1: "" if value is None else f"{value:+.{digits}f}",
        seconds=lambda value: "" if value is None else f"{value:.1f} s",
        short_guid=short_guid,
    )
    return environment


def short_guid(guid: str) -> str:
    """A GUID short enough for a table cell (the list's copy button gives the whole of it)."""
    return guid if len(guid) <= SHORT_GUID + 1 else guid[:SHORT_GUID] + "…"


TEMPLATES = _environment()


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status_code)


def error_page(status: int, title: str, message: str) -> HTMLResponse:
    return render("error.html", status, title=title, message=message, status=status)


@router.get("/", include_in_schema=False)
async def home(request: Request) -> RedirectResponse:
    # The dashboard opens on the overview; a link to the old list with filters still lands on the list.
    query = request.url.query
    return RedirectResponse(f"/calls?{query}" if query else "/overview", status_code=307)


@router.get("/overview", response_class=HTMLResponse)
async def overview_page(request: Request, filters: Annotated[CallFilters, Depends()]) -> HTMLResponse:
    store = request.app.state.store
    problem, overview = "", None
    try:
        overview = overview_of(store.figures(filters.query()))
        facets = store.facets()
    except (FilterError, CallscopeError) as error:
        problem, facets = str(error), Facets((), (), ())
    params = filters.params()

    def link(**extra: str) -> str:
        return "/calls?" + urlencode({**params, **extra})

    drawings = {}
    if overview and overview.calls:
        drawings = {"calls": overview_charts.calls_per_period(overview, link),
                    "sentiment": overview_charts.sentiment_per_period(overview),
                    "categories": overview_charts.category_frequencies(overview, link),
                    "lengths": overview_charts.call_lengths(overview),
                    "shares": overview_charts.time_shares(overview)}
    return render("overview.html", 422 if problem else 200, filters=filters, facets=facets, overview=overview,
                  problem=problem, drawings=drawings, link=link, store=store.location,
                  negative_below=NEGATIVE_BELOW)


@router.get("/calls", response_class=HTMLResponse)
async def call_list(request: Request, filters: Annotated[CallFilters, Depends()], continuation: str = "",
                    sort: str = NEWEST, start: int = Query(0, ge=0),
                    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_LIMIT)) -> HTMLResponse:
    # filters: the strings as written (CallFilters' fields), so a value that means nothing is told on the page.
    store = request.app.state.store
    problem, records, total, next_url = "", [], None, ""
    params = filters.params()
    if limit != PAGE_SIZE:
        params["limit"] = str(limit)
    if sort != NEWEST:
        params["sort"] = sort
    try:
        parse_sort(sort)
        query = filters.query(limit, continuation)
        facets = store.facets()
        if sort == NEWEST:  # the store's own order, a page at a time
            page = store.search(query)
            records, total = page.records, store.count(replace(query, continuation=None))
            next_url = "/calls?" + urlencode({**params, "continuation": page.continuation}) if page.continuation else ""
        else:  # every matching call's figures sorted, then the page's records
            ordered = sorted_records(store.figures(query), sort)
            records = [record for record in map(store.get, (call.guid for call in ordered[start:start + limit]))
                       if record is not None]
            total = len(ordered)
            next_url = "/calls?" + urlencode({**params, "start": start + limit}) if start + limit < total else ""
    except (FilterError, SortError, CallscopeError) as error:
        problem, facets = str(error), Facets((), (), ())
    return render("list.html", 422 if problem else 200, filters=filters, records=records, problem=problem,
                  total=total, deep=bool(continuation or start), store=store.location, facets=facets, sort=sort,
                  sort_link=lambda name: "/calls?" + urlencode({**params, "sort": link_sort(sort, name)}),
                  next_url=next_url, first_url="/calls?" + urlencode(params))


@router.get("/calls/{guid}", response_class=HTMLResponse)
async def call_page(request: Request, guid: CallGuid) -> HTMLResponse:
    asker = request.app.state.asker
    record = request.app.state.store.get(guid)
    if record is None:
        return error_page(404, "No such call",
                          f"There is no call {guid!r} in the store {request.app.state.store.location}.")
    places: DataPlaces = request.app.state.places
    return await anyio.to_thread.run_sync(_call_page, record, places, asker.name if asker else "")


def _call_page(record: CallRecord, places: DataPlaces, asker: str) -> HTMLResponse:
    try:
        path, document = load_document(record, places)
    except DocumentError as error:
        return error_page(error.status, f"Call {record.guid}: its analysis cannot be shown", error.message)
    view = call_view(record, document)
    audio = find_audio(record, path, document, places)
    urls = call_urls(record.guid)
    return render(
        "call.html", record=record, view=view, urls=urls, json_path=_shown(path, places.root),
        audio_url=urls["audio"] if audio else "", audio_type=AUDIO_TYPES.get(audio.suffix.lower(), "") if audio else "",
        audio_name=audio.name if audio else "",
        charts={"timeline": charts.timeline(view), "quarters": charts.sentiment_per_quarter(view),
                "talk": charts.talk_time(view)},
        story=call_story(view, document), mark_types=_mark_types(view), shown_marks=SHOWN_TYPES,
        asker=asker, no_asker_hint=NO_BACKEND_HINT, max_question=MAX_QUESTION,
    )


def _mark_types(view: CallView) -> list[tuple[str, bool]]:
    """(type, shown at first) of every mark in the transcript: the useful types first."""
    kinds = {piece.mark for turn in view.turns for piece in turn.pieces if piece.mark}
    return sorted(((kind, kind in SHOWN_TYPES) for kind in kinds), key=lambda item: (not item[1], item[0]))


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    return render("apidocs.html")
