"""The HTML pages: the call list (/) and a call's page (/calls/<guid>), from templates/ (autoescaped)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from callscope.dashboard import charts
from callscope.dashboard.api import AUDIO_TYPES, call_urls
from callscope.dashboard.documents import (
    DataPlaces,
    DocumentError,
    call_view,
    find_audio,
    load_document,
    sentiment_class,
)
from callscope.dashboard.guids import CallGuid
from callscope.dashboard.queries import MAX_LIMIT, CallFilters, FilterError
from callscope.errors import CallscopeError
from callscope.store.base import CallRecord
from callscope.time_axis import clock

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


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
    )
    return environment


TEMPLATES = _environment()


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status_code)


def error_page(status: int, title: str, message: str) -> HTMLResponse:
    return render("error.html", status, title=title, message=message, status=status)


@router.get("/", response_class=HTMLResponse)
async def call_list(request: Request, filters: Annotated[CallFilters, Depends()], continuation: str = "",
                    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_LIMIT)) -> HTMLResponse:
    # filters: the strings as written (CallFilters' fields), so a value that means nothing is told on the page.
    store = request.app.state.store
    problem, records, token, total = "", [], None, None
    try:
        query = filters.query(limit, continuation)
        page = store.search(query)
        records, token = page.records, page.continuation
        total = store.count(replace(query, continuation=None))
    except (FilterError, CallscopeError) as error:
        problem = str(error)
    params = filters.params()
    if limit != PAGE_SIZE:
        params["limit"] = str(limit)
    return render("list.html", 422 if problem else 200, filters=filters, records=records, problem=problem,
                  total=total, deep=bool(continuation), store=store.location,
                  next_url="/?" + urlencode({**params, "continuation": token}) if token else "",
                  first_url="/?" + urlencode(params))


@router.get("/calls/{guid}", response_class=HTMLResponse)
async def call_page(request: Request, guid: CallGuid) -> HTMLResponse:
    record = request.app.state.store.get(guid)
    if record is None:
        return error_page(404, "No such call",
                          f"There is no call {guid!r} in the store {request.app.state.store.location}.")
    places: DataPlaces = request.app.state.places
    return await anyio.to_thread.run_sync(_call_page, record, places)


def _call_page(record: CallRecord, places: DataPlaces) -> HTMLResponse:
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
        charts={"turns": charts.sentiment_per_turn(view), "quarters": charts.sentiment_per_quarter(view),
                "loudness": charts.loudness(view), "talk": charts.talk_time(view)},
    )


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    return render("apidocs.html")
