"""The JSON API under /api: the call list (the list page's filters and continuation), the overview's
figures, one call, its PCA document, its recording, and questions about it to an LLM. FastAPI
describes it at /api/openapi.json."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from callscope.dashboard.ask import MAX_QUESTION, NO_BACKEND_HINT, Answer, QuestionError, ask
from callscope.dashboard.documents import DocumentError, call_view, find_audio, load_document
from callscope.dashboard.files import AUDIO_FORMATS
from callscope.dashboard.guids import CallGuid
from callscope.dashboard.overview import Overview, overview_of
from callscope.dashboard.queries import MAX_LIMIT, CallFilters, FilterError
from callscope.errors import CallscopeError, InsightBackendError
from callscope.store.base import DEFAULT_LIMIT, CallRecord

router = APIRouter(prefix="/api", tags=["calls"])

AUDIO_TYPES = {extension: media_type for extension, (media_type, _) in AUDIO_FORMATS.items()}


class Talk(BaseModel):
    """How the call's time was spent (docs/STORE.md, "What is stored")."""

    agent_seconds: float
    customer_seconds: float
    non_talk_seconds: float
    interruptions: int
    agent_interruptions: int = Field(description="interruptions by the agent")
    interruption_seconds: float


class Call(BaseModel):
    """A stored call: the fields the store keeps from its PCA document (docs/STORE.md)."""

    guid: str
    file: str = Field(description="the PCA JSON's file name")
    conversation_time: str | None = Field(description="as written in the document, naive: 2025-02-19 06:01:22")
    duration: float = Field(description="seconds")
    language: str
    agent: str
    customer: str
    agent_sentiment: float | None = Field(description="SentimentTrends score of the agent, -5..5")
    customer_sentiment: float | None = Field(description="SentimentTrends score of the customer, -5..5")
    customer_sentiment_change: float | None = Field(description="the customer's last quarter minus first")
    categories: list[str]
    entities: dict[str, list[str]] = Field(description="entity type → distinct values")
    summary: str
    action_items: list[str]
    redacted: bool
    path: str = Field(description="where the PCA JSON was loaded from")
    talk: Talk | None = Field(description="null for a call loaded by a callscope that did not keep them")


class CallsPage(BaseModel):
    calls: list[Call]
    continuation: str | None = Field(description="pass as `continuation` for the next page; null on the last")


class CallDetail(Call):
    page: str = Field(description="the call's page in the dashboard")
    document: str = Field(description="URL of its PCA document")
    audio: str | None = Field(description="URL of its recording (the redacted copy for a redacted call); null "
                                          "when none lies in the data directory")
    document_error: str | None = Field(description="why the PCA document cannot be read, when it cannot")


class Problem(BaseModel):
    detail: str


def call_urls(guid: str) -> dict[str, str]:
    quoted = quote(guid, safe="")
    return {"page": f"/calls/{quoted}", "document": f"/api/calls/{quoted}/document",
            "audio": f"/api/calls/{quoted}/audio", "ask": f"/api/calls/{quoted}/ask"}


async def api_filters(
    since: str = Query("", description="conversation time at or after: 24h, 7d, 30m, 2w (before now) or an ISO time"),
    until: str = Query("", description="conversation time before (as since)"),
    agent: str = Query("", description="the Agent field, exactly"),
    customer_sentiment_below: float | None = Query(None, ge=-5, le=5, description="customer sentiment below X"),
    customer_sentiment_above: float | None = Query(None, ge=-5, le=5, description="customer sentiment above X"),
    sentiment_change: Literal["improving", "worsening"] | None = Query(None, description="the customer's sentiment "
                                                                                       "from first quarter to last"),
    category: str = Query("", description="a category that matched"),
    entity: str = Query("", description="an entity value, TYPE=VALUE or VALUE (any case)"),
    language: str = Query("", description="LanguageCode as written: en-US, fr"),
    text: str = Query("", description="words that must all occur in the transcript"),
) -> CallFilters:
    def number(value: float | None) -> str:
        return "" if value is None else repr(value)

    return CallFilters(since=since, until=until, agent=agent, customer_sentiment_below=number(customer_sentiment_below),
                       customer_sentiment_above=number(customer_sentiment_above),
                       sentiment_change=sentiment_change or "", category=category, entity=entity, language=language,
                       text=text)


def record_or_404(request: Request, guid: str) -> CallRecord:
    record = request.app.state.store.get(guid)
    if record is None:
        raise HTTPException(404, f"no call {guid!r} in the store")
    return record


@router.get("/calls", response_model=CallsPage, summary="Calls matching every filter, newest first",
            responses={422: {"model": Problem, "description": "a filter or continuation token that means nothing"}})
async def list_calls(request: Request, filters: Annotated[CallFilters, Depends(api_filters)],
                     limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size"),
                     continuation: str | None = Query(None, description="the previous page's continuation"),
                     ) -> dict:
    try:
        page = request.app.state.store.search(filters.query(limit, continuation))
    except (FilterError, CallscopeError) as error:
        raise HTTPException(422, str(error)) from None
    return {"calls": [record.as_json() for record in page.records], "continuation": page.continuation}


@router.get("/overview", response_model=Overview, summary="The overview page's figures over the calls matching "
                                                         "every filter", responses={422: {"model": Problem}})
async def overview(request: Request, filters: Annotated[CallFilters, Depends(api_filters)]) -> Overview:
    """Calls, negative calls and average sentiment; calls and average sentiment per day (or week or month,
    oldest first, without gaps); category frequencies; each call's duration; agent and customer talk and
    non-talk time as shares of all call time; a row per agent (docs/DASHBOARD.md, "Overview")."""
    try:
        return overview_of(request.app.state.store.figures(filters.query()))
    except (FilterError, CallscopeError) as error:
        raise HTTPException(422, str(error)) from None


@router.get("/calls/{guid}", response_model=CallDetail, summary="One call, with the URLs of its document and audio",
            responses={404: {"model": Problem, "description": "no such call"}})
async def get_call(request: Request, guid: CallGuid) -> dict:
    record = record_or_404(request, guid)
    places = request.app.state.places

    def look() -> tuple[bool, str | None]:
        try:
            path, document = load_document(record, places)
        except DocumentError as error:
            return False, error.message
        return find_audio(record, path, document, places) is not None, None

    has_audio, problem = await anyio.to_thread.run_sync(look)
    urls = call_urls(guid)
    return {**record.as_json(), **urls, "audio": urls["audio"] if has_audio else None, "document_error": problem}


@router.get("/calls/{guid}/document", summary="The call's PCA document (docs/OUTPUT.md)",
            responses={200: {"content": {"application/json": {}}, "description": "the PCA JSON, as stored on disk"},
                       404: {"model": Problem, "description": "no such call, or its JSON is missing or outside "
                                                             "the data directory"},
                       422: {"model": Problem, "description": "its JSON is corrupt or not a PCA document"}})
async def get_document(request: Request, guid: CallGuid) -> JSONResponse:
    record = record_or_404(request, guid)
    try:
        _, document = await anyio.to_thread.run_sync(load_document, record, request.app.state.places)
    except DocumentError as error:
        raise HTTPException(error.status, error.message) from None
    return JSONResponse(document)


@router.get("/calls/{guid}/audio", summary="The call's recording (Range requests answer 206)",
                  response_class=FileResponse,
                  responses={200: {"content": {"audio/wav": {}, "audio/mpeg": {}}, "description": "the recording"},
                             206: {"description": "the bytes a Range header asked for"},
                             404: {"model": Problem, "description": "no such call, or no recording inside the data "
                                                                   "directory"},
                             416: {"description": "a Range beyond the file"}})
async def get_audio(request: Request, guid: CallGuid) -> FileResponse:
    record = record_or_404(request, guid)
    places = request.app.state.places

    def find():
        path, document = load_document(record, places)
        return find_audio(record, path, document, places)

    try:
        audio = await anyio.to_thread.run_sync(find)
    except DocumentError as error:
        raise HTTPException(404, error.message) from None
    if audio is None:
        raise HTTPException(404, f"call {guid}: no recording of it lies in the data directory"
                                 + (" (a redacted call plays only its .redacted.wav copy)" if record.redacted else ""))
    return FileResponse(audio, media_type=AUDIO_TYPES[audio.suffix.lower()],
                        headers={"Cache-Control": "no-cache"})


class Question(BaseModel):
    question: str = Field(description=f"what to ask about the call, at most {MAX_QUESTION} characters",
                          examples=["Did the agent offer a refund?"])


class AnswerOut(BaseModel):
    question: str
    answer: str
    backend: str = Field(description="the LLM backend that answered: openai:<model>, bedrock:<model id>, ...")
    read_until: float | None = Field(description="null: the model read the whole call; else the second its part "
                                                  "ends (a call longer than the backend's context)")


@router.post("/calls/{guid}/ask", response_model=AnswerOut, summary="Ask the LLM backend a question about the call",
             responses={404: {"model": Problem, "description": "no such call, or its JSON cannot be read"},
                        409: {"model": Problem, "description": "the dashboard runs without an LLM backend"},
                        422: {"model": Problem, "description": "an empty or too long question"},
                        502: {"model": Problem, "description": "the LLM backend failed or could not be reached"}})
async def ask_about_call(request: Request, guid: CallGuid, body: Question) -> Answer:
    """The question and the call's transcript go to the backend `callscope serve --insights` names; the
    answer comes from the transcript alone (docs/DASHBOARD.md, "Ask about this call")."""
    asker = request.app.state.asker
    if asker is None:
        raise HTTPException(409, NO_BACKEND_HINT)
    record = record_or_404(request, guid)

    def answer() -> Answer:
        try:
            _, document = load_document(record, request.app.state.places)
        except DocumentError as error:
            raise HTTPException(404, error.message) from None
        try:
            return ask(asker, call_view(record, document), body.question)
        except QuestionError as error:
            raise HTTPException(422, str(error)) from None
        except InsightBackendError as error:
            raise HTTPException(502, f"{asker.name}: {error}") from None

    return await anyio.to_thread.run_sync(answer)


# HEAD answers as GET does, without the body (browsers probe media with it); one operation in the OpenAPI document.
router.add_api_route("/calls/{guid}/audio", get_audio, methods=["HEAD"], include_in_schema=False)
