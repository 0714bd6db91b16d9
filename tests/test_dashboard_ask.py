"""Ask about this call: `callscope serve --insights openai` sends a question and the call's transcript
to a local OpenAI-compatible server (tests/llm_server.py) and shows its answer; without a backend the
page says how to configure one."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.dashboard.ask import ANSWER_SCHEMA, ask
from callscope.dashboard.documents import call_view
from callscope.insights.backends.openai_compat import OpenAICompatBackend
from callscope.store.records import record_from_pca
from tests.browser import wait_until
from tests.dashboard_server import SAMPLE_TURNS, Server, build, sample_call
from tests.llm_server import ChatServer

ANSWER = {"answer": "Sheila lives in Texas; she is originally from Chicago (0:14)."}


@pytest.fixture(scope="module")
def llm():
    with ChatServer(ANSWER) as server:
        yield server


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return build(tmp_path_factory.mktemp("ask"))


@pytest.fixture(scope="module")
def server(dataset, llm):
    running = Server("--store", str(dataset.store), "--data", str(dataset.data),
                     "--insights", "openai", "--llm-url", llm.url, "--llm-model", "llama3.1")
    yield running
    log = running.stop()
    assert "Traceback" not in log, log


def test_a_question_goes_with_the_transcript_and_the_answer_comes_back(server, llm):
    llm.requests.clear()
    status, _, body = server.request("/api/calls/sample-call/ask", "POST", body={"question": "Where does Sheila live?"})
    assert status == 200, body
    reply = json.loads(body)
    assert reply == {"question": "Where does Sheila live?", "answer": ANSWER["answer"], "backend": "openai:llama3.1",
                     "read_until": None}
    (request,) = llm.requests
    sent = request["body"]
    assert request["path"] == "/v1/chat/completions" and sent["model"] == "llama3.1"
    assert sent["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    system, user = sent["messages"]
    assert "only its transcript" in system["content"]
    # every turn, in order, with its time and role; the question last
    lines = user["content"].split("\n")
    assert lines[0] == "Transcript:" and lines[-1] == "Question: Where does Sheila live?"
    assert lines[1] == "[0:07] Agent: Hello?"
    assert "[0:14] Customer: And I'm Sheila in Texas, originally from Chicago." in lines
    assert len([line for line in lines if line.startswith("[")]) == len(SAMPLE_TURNS)


def test_a_redacted_call_is_asked_about_in_its_redacted_words(server, llm):
    llm.requests.clear()
    status, _, _ = server.request("/api/calls/redacted-call/ask", "POST", body={"question": "Who answered?"})
    assert status == 200
    content = llm.requests[0]["body"]["messages"][1]["content"]
    assert "Diane" not in content and "This is [PII] in New Jersey." in content


@pytest.mark.parametrize(("question", "status", "detail"), [
    ("   ", 422, "the question is empty"),
    ("x" * 501, 422, "longer than 500 characters"),
])
def test_bad_questions_are_refused_before_the_llm(server, llm, question, status, detail):
    llm.requests.clear()
    answer, _, body = server.request("/api/calls/sample-call/ask", "POST", body={"question": question})
    assert answer == status and detail in json.loads(body)["detail"] and llm.requests == []


def test_a_failing_llm_is_a_one_line_502(server, llm):
    # twice: on a 400 the backend tries again without a JSON schema (docs/INSIGHTS_BACKENDS.md)
    llm.script += [(400, {"error": {"message": "model 'llama3.1' not found"}}, {}, 0.0)] * 2
    status, _, body = server.request("/api/calls/sample-call/ask", "POST", body={"question": "Why?"})
    detail = json.loads(body)["detail"]
    assert status == 502 and detail.startswith("openai:llama3.1:") and "not found" in detail and "\n" not in detail
    assert server.request("/api/calls/no-such-call/ask", "POST", body={"question": "Why?"})[0] == 404


def test_a_long_call_is_cut_to_what_the_context_holds(llm, tmp_path):
    document = sample_call("long-call", "x.wav")
    document["SpeechSegments"] = document["SpeechSegments"] * 40  # some 4,000 tokens of transcript
    record = record_from_pca(document, str(tmp_path / "long-call.json")).record
    backend = OpenAICompatBackend(llm.url, "llama3.1", context_tokens=1800, timeout=5.0)
    llm.requests.clear()
    answer = ask(backend, call_view(record, document), "What happened?")
    assert answer.read_until is not None and answer.answer == ANSWER["answer"]
    content = llm.requests[0]["body"]["messages"][1]["content"]
    assert "only this part fits" in content and len(content) < 4 * 1800


def test_without_a_backend_the_page_says_how_to_add_one(tmp_path):
    dataset = build(tmp_path)
    running = Server("--store", str(dataset.store), "--data", str(dataset.data))
    try:
        page = running.request("/calls/sample-call")[2].decode()
        assert 'id="ask-hint"' in page and "--insights openai" in page and 'id="ask-form"' not in page
        status, _, body = running.request("/api/calls/sample-call/ask", "POST", body={"question": "Why?"})
        assert status == 409 and "no LLM backend" in json.loads(body)["detail"]
    finally:
        running.stop()


def test_llm_settings_without_a_backend_are_one_line():
    outcome = CliRunner().invoke(main, ["serve", "--llm-model", "llama3.1"])
    assert outcome.exit_code != 0 and "need --insights" in outcome.output
    outcome = CliRunner().invoke(main, ["serve", "--insights", "openai", "--llm-model", "llama3.1"])
    assert outcome.exit_code != 0 and "--llm-url" in outcome.output


def test_the_page_asks_and_shows_the_answer(server, browser):
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/calls/sample-call")
    page.fill("#ask-question", "Where does Sheila live?")
    page.click("#ask-form button")
    wait_until(page, "!document.getElementById('ask-answer').hidden"
                     " && document.getElementById('ask-answer').textContent !== 'Asking…'")
    assert page.locator("#ask-answer").inner_text() == ANSWER["answer"]
    assert "failed" not in page.locator("#ask-answer").get_attribute("class")
    assert errors == []
    context.close()
