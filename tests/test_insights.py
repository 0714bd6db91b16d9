"""Insights: prompts as data, the runner (validation, one retry, failures kept apart, long calls in
stages) and the embedded default on a real call.

LLM backends are network services; here `ScriptedBackend`, defined below, stands in for one: it
implements the LLMBackend protocol, records every request it receives and answers from a script.
Everything else is the product itself, run on the demo call (a lost card): its frozen transcript,
analysed for real.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from callscope.enrichment.files import ConfigFileError
from callscope.errors import InsightBackendError
from callscope.insights.answers import first_json_object, read_answer
from callscope.insights.prompts import PromptSet
from callscope.insights.results import display_text
from callscope.insights.runner import NEEDS_LLM, InsightRunner
from callscope.insights.transcript import chunk_lines, estimate_tokens, transcript_lines
from callscope.model import AudioSource, Conversation, Role, Speaker, Turn, Word
from callscope.output.pca import to_pca, validation_errors
from tests.conftest import FROZEN_DEMO_CALL, frozen_call

SHIPPED_NAMES = ["summary", "agent_sentiment", "customer_sentiment", "action_items", "call_driver",
                 "issue_resolved", "callback_needed", "greeted", "verified_identity", "asked_for_feedback"]

PRODUCT_PROMPT = """\
prompts:
  - name: product_mentioned
    title: Product Mentioned
    instruction: |-
      Which of our products did the customer talk about? Answer like {"product": "..."}.
      {transcript}
    schema:
      type: object
      properties:
        product: {type: string}
      required: [product]
"""


class ScriptedBackend:
    """Stands in for a network LLM: records (system, prompt, schema) of each request and answers
    with `script(prompt, schema)`, which may raise InsightBackendError like a real backend."""

    def __init__(self, script: Callable[[str, dict], str] | None = None, context_tokens: int = 100_000,
                 name: str = "scripted:test") -> None:
        self.script = script or (lambda prompt, schema: json.dumps(example(schema)))
        self.context_tokens = context_tokens
        self.name = name
        self.requests: list[tuple[str, str, dict]] = []

    def complete_json(self, system: str, prompt: str, schema: dict) -> str:
        self.requests.append((system, prompt, schema))
        return self.script(prompt, schema)


def example(schema: dict[str, Any]) -> Any:
    """A minimal value matching a (simple) JSON Schema."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {key: example(schema["properties"][key]) for key in schema.get("required", [])}
    return {"string": "text", "number": 0.5, "integer": 1, "boolean": True, "array": []}[kind]


def conversation(lines: list[tuple[Role, str]]) -> Conversation:
    """A small two-party call from text, one turn per line, two seconds each."""
    turns = []
    for index, (role, text) in enumerate(lines):
        label = "spk_1" if role is Role.AGENT else "spk_0"
        words = [Word(f" {word}", index * 2 + 0.1 * n, index * 2 + 0.1 * n + 0.1, 0.9, label)
                 for n, word in enumerate(text.split())]
        turns.append(Turn(label, words))
    source = AudioSource("call.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, 2.0 * len(lines))
    return Conversation(source, [Speaker("spk_0", Role.CUSTOMER, 0), Speaker("spk_1", Role.AGENT, 1)], turns, "en")


SMALL_CALL = [
    (Role.AGENT, "Thank you for calling the bank, this is Ashley. How can I help you today?"),
    (Role.CUSTOMER, "Hi, I lost my card yesterday and I need to cancel it."),
    (Role.AGENT, "I'm sorry to hear that. I have cancelled the card and a new one will arrive by Friday."),
    (Role.CUSTOMER, "Thank you so much."),
]


# --- prompts as data ---------------------------------------------------------------------------

def test_shipped_prompts_load_with_titles_schemas_and_embedded_rules():
    prompts = PromptSet.load()
    assert [prompt.name for prompt in prompts.prompts] == SHIPPED_NAMES
    assert prompts.get("call_driver").title == "Call Category"
    assert prompts.get("agent_sentiment").schema["properties"]["sentiment"]["enum"] == [
        "Positive", "Negative", "Neutral", "Mixed"]
    assert all(prompt.embedded is not None and "{transcript}" in prompt.instruction for prompt in prompts.prompts)
    assert "{transcript}" in prompts.chunk_summary.instruction and prompts.system


def test_user_file_adds_changes_removes_or_replaces_prompts(tmp_path):
    added = tmp_path / "added.yaml"
    added.write_text(PRODUCT_PROMPT + """\
  - name: summary
    instruction: "One sentence, please. {transcript}"
remove: [asked_for_feedback]
""")
    prompts = PromptSet.load([added])
    assert [prompt.name for prompt in prompts.prompts] == [*SHIPPED_NAMES[:-1], "product_mentioned"]
    summary = prompts.get("summary")
    assert summary.instruction == "One sentence, please. {transcript}"
    assert summary.title == "Summary" and summary.embedded is not None  # keys not given are kept
    assert prompts.get("product_mentioned").embedded is None

    replacing = tmp_path / "only.yaml"
    replacing.write_text("replace: true\n" + PRODUCT_PROMPT)
    assert [prompt.name for prompt in PromptSet.load([replacing]).prompts] == ["product_mentioned"]


BAD_FILES = {
    "prompts: [\n  - name: x\n": "not valid YAML",
    "prompts:\n  - {name: Bad-Name, title: T, instruction: '{transcript}', schema: {type: object}}\n":
        "prompt 1: 'name'",
    "prompts:\n  - {name: extra, title: T, instruction: 'no placeholder', schema: {type: object}}\n":
        "prompt 'extra': 'instruction' must be text containing {transcript}",
    "prompts:\n  - {name: extra, title: T, instruction: '{transcript}', schema: {type: string}}\n":
        "prompt 'extra': 'schema' must be a JSON Schema with type: object",
    "prompts:\n  - {name: extra, title: T, instruction: '{transcript}', "
    "schema: {type: object, properties: {a: {type: strin}}}}\n":
        "prompt 'extra': 'schema' is not a valid JSON Schema",
    "prompts:\n  - {name: extra, instruction: '{transcript}', schema: {type: object}}\n":
        "prompt 'extra': 'title' is missing",
    "prompts:\n  - {name: extra, title: Summary, instruction: '{transcript}', schema: {type: object}}\n":
        "prompt 'extra': title 'Summary' is used by another prompt",
    "prompts:\n  - {name: extra, title: T, instruction: '{transcript}', schema: {type: object}, colour: red}\n":
        "prompt 'extra': unknown key 'colour'",
    "prompts:\n  - {name: extra, title: T, instruction: '{transcript}', schema: {type: object}, "
    "embedded: {rule: guess}}\n":
        "prompt 'extra': embedded rule must be one of",
    "prompts:\n  - {name: extra, title: T, instruction: '{transcript}', schema: {type: object}, "
    "embedded: {rule: phrase_check}}\n":
        "prompt 'extra': embedded rule: 'phrases' must be a list",
    "prompts:\n  - {name: a, title: A, instruction: '{transcript}', schema: {type: object}}\n"
    "  - {name: a, title: B, instruction: '{transcript}', schema: {type: object}}\n": "prompt 'a' is defined twice",
    "prompts:\n  - {name: extra, title: T, instruction: '{transcript}', schema: {type: object, default: 2024-01-01}}\n":
        "prompt 'extra': 'schema' is not JSON",
    "remove: [nonexistent]\n": "remove: no prompt named 'nonexistent'",
    "prompt: []\n": "unknown key 'prompt'",
    "- just a list\n": "expected a mapping",
}


@pytest.mark.parametrize("text, problem", BAD_FILES.items(), ids=range(len(BAD_FILES)))
def test_bad_prompt_files_are_one_line_errors_naming_the_file_and_prompt(tmp_path, text, problem):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigFileError) as raised:
        PromptSet.load([path])
    message = str(raised.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_missing_prompt_file_is_named(tmp_path):
    with pytest.raises(ConfigFileError, match="missing.yaml: file not found"):
        PromptSet.load([tmp_path / "missing.yaml"])


# --- answers, display -------------------------------------------------------------------------

def test_first_json_object_tolerates_fences_and_prose():
    assert first_json_object('Sure! Here it is:\n```json\n{"a": {"b": [1, "}"]}}\n```') == {"a": {"b": [1, "}"]}}
    assert first_json_object("{not json} then {\"ok\": true}") == {"ok": True}
    assert first_json_object("[1, 2] no object") is None
    schema = PromptSet.load().get("greeted").schema
    assert read_answer('{"passed": "yes"}', schema)[1] == \
        "(top): 'evidence' is a required property; passed: 'yes' is not of type 'boolean'"
    assert read_answer("I cannot tell.", schema)[1].startswith("no JSON object in the answer")


def test_display_text_is_readable():
    assert display_text({"sentiment": "Positive", "confidence": 0.823}) == "Positive (0.82)"
    assert display_text({"passed": True, "evidence": "Agent: hello"}) == "Passed"
    assert display_text({"passed": False, "evidence": "no greeting"}) == "Failed: no greeting"
    assert display_text({"resolved": True, "evidence": "cancelled"}) == "Yes: cancelled"
    assert display_text({"items": [{"owner": "agent", "text": "Send a card."}]}) == "- Agent: Send a card."
    assert display_text({"items": []}) == "None"
    assert display_text({"category": "Lost card", "evidence": "..."}) == "Lost card"
    assert display_text({"a_b": 1, "c": [2]}) == "A b: 1; C: - 2"


# --- the runner with an LLM backend ---------------------------------------------------------------

def test_prompt_added_in_yaml_appears_in_the_output_without_code(tmp_path):
    path = tmp_path / "product.yaml"
    path.write_text(PRODUCT_PROMPT)
    backend = ScriptedBackend(lambda prompt, schema: '{"product": "debit card"}' if "our products" in prompt
                              else json.dumps(example(schema)))
    call = conversation(SMALL_CALL)
    call.insights = InsightRunner(backend, PromptSet.load([path])).run(call)
    document = to_pca(call)
    analytics = document["ConversationAnalytics"]
    assert analytics["Summary"]["Product Mentioned"] == "debit card"
    assert {"Name": "product_mentioned", "Title": "Product Mentioned", "Value": {"product": "debit card"},
            "Backend": "scripted:test", "Error": ""} in analytics["Insights"]
    assert len(analytics["Insights"]) == len(SHIPPED_NAMES) + 1
    assert validation_errors(document) == []
    # Each request: the system prompt, the instruction over the "Agent: ..." transcript, the schema.
    system, prompt, schema = backend.requests[-1]
    assert system == PromptSet.load().system
    assert "Customer: Hi, I lost my card yesterday and I need to cancel it." in prompt
    assert json.dumps(schema) in prompt and schema["required"] == ["product"]


def test_invalid_answer_is_retried_once_with_the_validation_error():
    answers = iter(['```json\n{"sentiment": "Happy", "confidence": 0.9}\n```',
                    'Here you go: {"sentiment": "Positive", "confidence": 0.9}'])
    backend = ScriptedBackend(lambda prompt, schema: next(answers))
    prompts = PromptSet.load()
    only = PromptSet(prompts.system, prompts.chunk_summary, (prompts.get("agent_sentiment"),))
    (insight,) = InsightRunner(backend, only).run(conversation(SMALL_CALL))
    assert insight.value == {"sentiment": "Positive", "confidence": 0.9} and insight.error == ""
    first, retry = (request[1] for request in backend.requests)
    assert retry.startswith(first)
    assert "sentiment: 'Happy' is not one of ['Positive', 'Negative', 'Neutral', 'Mixed']" in retry[len(first):]


def test_a_failing_prompt_does_not_cost_the_others():
    def script(prompt: str, schema: dict) -> str:
        if "greet" in prompt:
            return '{"passed": "maybe", "evidence": ""}'  # invalid twice
        if "feedback" in prompt:
            raise InsightBackendError("openai: HTTP 400: content filter")
        if "reason for this call" in prompt:
            raise KeyError("choices")  # a backend's own bug
        return json.dumps(example(schema))

    backend = ScriptedBackend(script)
    call = conversation(SMALL_CALL)
    insights = {insight.name: insight for insight in InsightRunner(backend, PromptSet.load()).run(call)}
    assert list(insights) == SHIPPED_NAMES
    assert insights["greeted"].value is None
    assert insights["greeted"].error.startswith("invalid answer after one retry: passed: 'maybe' is not of type")
    assert insights["asked_for_feedback"].error == "openai: HTTP 400: content filter"
    assert insights["call_driver"].error == "KeyError: 'choices'"
    ok = [insight for insight in insights.values() if insight.value is not None]
    assert len(ok) == len(SHIPPED_NAMES) - 3 and all(insight.backend == "scripted:test" for insight in ok)
    assert sum("greet" in request[1] for request in backend.requests) == 2  # asked once, retried once
    call.insights = list(insights.values())
    summary = to_pca(call)["ConversationAnalytics"]["Summary"]
    assert "Agent Greeted Customer" not in summary and "Summary" in summary


def test_an_unreachable_backend_is_asked_once_and_every_insight_says_why():
    def script(prompt: str, schema: dict) -> str:
        raise InsightBackendError("openai: cannot connect to http://localhost:11434/v1 (connection refused)")

    backend = ScriptedBackend(script)
    call = conversation(SMALL_CALL)
    insights = InsightRunner(backend, PromptSet.load()).run(call)
    assert len(backend.requests) == 1
    assert [insight.value for insight in insights] == [None] * len(SHIPPED_NAMES)
    assert insights[0].error == "openai: cannot connect to http://localhost:11434/v1 (connection refused)"
    assert insights[1].error.startswith("not asked: scripted:test unavailable (openai: cannot connect")
    assert call.warnings == [f"insights: {insights[1].error.removeprefix('not asked: ')}"]


# --- long calls -------------------------------------------------------------------------------------

def test_chunks_cover_every_line_in_order_and_fit_the_budget():
    lines = [f"{'Agent' if n % 2 else 'Customer'}: " + " ".join(f"word{n}x{i}" for i in range(n % 7 * 9 + 1))
             for n in range(60)]
    lines.append("Customer: " + "averyveryverylongwordwithoutanyspaces" * 12)  # longer than a whole part
    for budget in (16, 40, 100, 1000):
        chunks = chunk_lines(lines, budget)
        assert all(estimate_tokens("\n".join(chunk)) <= budget for chunk in chunks)
        pieces = [piece for chunk in chunks for piece in chunk]
        # Every word once, in order; pieces of a line cut between words keep its speaker.
        assert all(piece.startswith(("Agent: ", "Customer: ")) for piece in pieces)
        assert "".join("".join(piece.partition(": ")[2].split()) for piece in pieces) == "".join(
            "".join(line.partition(": ")[2].split()) for line in lines)
    assert chunk_lines(lines[:3], 10_000) == [lines[:3]]
    with pytest.raises(ValueError):
        chunk_lines(lines, 0)


# --- the real demo call ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_call():
    """demo-call.mp3 (a customer whose cards were stolen from her car) as tiny.en heard it, frozen
    (conftest.FROZEN_DEMO_CALL: the rules must read the same words on every processor), with the
    default enrichers (sentiment, issues, categories; entities are not read by insights)."""
    from callscope.analysis.engines import load_enrichers
    from callscope.options import AnalyzeOptions

    enrichers = [enricher for enricher in load_enrichers(AnalyzeOptions()) if enricher.aspect != "entities"]
    return frozen_call(FROZEN_DEMO_CALL, enrichers)


def test_embedded_default_on_the_demo_call(demo_call):
    call = copy.deepcopy(demo_call)
    call.insights = InsightRunner(None, PromptSet.load()).run(call)
    insights = {insight.name: insight for insight in call.insights}
    assert list(insights) == SHIPPED_NAMES
    assert {insight.backend for insight in call.insights} == {"embedded:rules"}
    assert all(insight.error == "" for insight in call.insights), [i.error for i in call.insights]

    summary = insights["summary"].value["summary"]
    assert "Customer:" in summary and "Agent:" in summary and "card" in summary.lower() and "cancel" in summary.lower()
    assert insights["call_driver"].value["category"] == "Lost or stolen card"
    assert "cancel my card" in insights["call_driver"].value["evidence"]
    # On these words the labels are clear of their cuts: the agent's positive share is 0.75 (Positive
    # from 0.7), the customer's 0.37 (Mixed above 0.3), and the nearest turn is 0.004 from the 0.4 class
    # probability that makes a turn polar; ONNX Runtime's differences between processors are ~1e-6.
    assert insights["customer_sentiment"].value["sentiment"] in ("Mixed", "Negative")
    assert insights["agent_sentiment"].value["sentiment"] == "Positive"
    assert insights["issue_resolved"].value["resolved"] is True
    assert "cancel" in insights["issue_resolved"].value["evidence"]
    greeted, verified, feedback = (insights[name].value
                                   for name in ("greeted", "verified_identity", "asked_for_feedback"))
    assert (greeted["passed"] and greeted["evidence"].startswith('Agent at 0:00: "')
            and "thank you for calling" in greeted["evidence"].lower())
    assert verified["passed"] and ("verify" in verified["evidence"] or "address" in verified["evidence"])
    assert feedback == {"passed": False, "evidence": "the agent did not ask for feedback or offer a survey"}
    assert insights["callback_needed"].value["needed"] is False
    assert any("arrive" in item["text"] and item["owner"] == "agent"
               for item in insights["action_items"].value["items"])

    document = to_pca(call)
    assert validation_errors(document) == []
    analytics = document["ConversationAnalytics"]
    assert analytics["ContactSummary"] == {"AutoGenerated": {"OverallSummary": {"Content": summary}}}
    assert analytics["Summary"]["Call Category"] == "Lost or stolen card"
    assert analytics["Summary"]["Asked For Feedback"] == "Failed: the agent did not ask for feedback or offer a survey"
    assert analytics["Summary"]["Agent Greeted Customer"] == "Passed"
    assert [entry["Backend"] for entry in analytics["Insights"]] == ["embedded:rules"] * len(SHIPPED_NAMES)


def test_embedded_default_answers_a_users_phrase_check_and_says_what_needs_an_llm(demo_call, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(PRODUCT_PROMPT + """\
  - name: recording_disclosure
    title: Recording Disclosure
    instruction: "Did the agent say the call is recorded? {transcript}"
    schema: {type: object, properties: {passed: {type: boolean}, evidence: {type: string}}, \
required: [passed, evidence]}
    embedded: {rule: phrase_check, speaker: agent, first_turns: 3, \
phrases: [this call is recorded, call may be recorded]}
  - name: card_mentioned
    title: Card Mentioned
    instruction: "Did the customer mention their card? {transcript}"
    schema: {type: object, properties: {mentioned: {type: boolean}, evidence: {type: string}}, \
required: [mentioned, evidence]}
    embedded: {rule: phrase_check, field: mentioned, speaker: customer, phrases: [my card]}
""")
    call = copy.deepcopy(demo_call)
    call.insights = InsightRunner(None, PromptSet.load([path])).run(call)
    insights = {insight.name: insight for insight in call.insights}
    assert insights["product_mentioned"].value is None and insights["product_mentioned"].error == NEEDS_LLM
    assert insights["recording_disclosure"].value == {
        "passed": False, "evidence": "none of the phrases said by the agent in their first 3 turns"}
    assert insights["card_mentioned"].value["mentioned"] is True
    assert insights["card_mentioned"].value["evidence"].startswith('Customer at 0:06: "I just need to cancel my card."')
    summary = to_pca(call)["ConversationAnalytics"]["Summary"]
    assert "Product Mentioned" not in summary and summary["Card Mentioned"].startswith("Yes: Customer at 0:06")
    assert insights["card_mentioned"].heading == "Card Mentioned"


def test_embedded_sentiment_needs_sentiment_scores(demo_call):
    call = copy.deepcopy(demo_call)
    for turn in call.turns:
        turn.sentiment, turn.sentiment_scores = None, None
    insights = {insight.name: insight for insight in InsightRunner(None, PromptSet.load()).run(call)}
    assert insights["agent_sentiment"].error == "needs turn sentiment (--sentiment local|comprehend)"
    assert insights["summary"].value is not None  # the rest is unaffected


def test_transcript_reads_translations_and_redacted_text(demo_call):
    call = copy.deepcopy(demo_call)
    call.turns[0].translation = "Hello, [PII] speaking, how can I help?"
    lines = transcript_lines(call)
    assert lines[0] == "Agent: Hello, [PII] speaking, how can I help?"
    assert lines[1].startswith("Customer: Hi. I just need to cancel my card.")
    assert len(lines) == len([turn for turn in call.turns if turn.analysis_text.strip()])


def test_long_call_is_summarised_in_stages(demo_call):
    """A backend whose context holds a quarter of the call: parts first, in order, covering every
    turn; then each insight prompt reads the parts' summaries instead of the transcript."""
    lines = transcript_lines(demo_call)
    whole = estimate_tokens("\n".join(lines))

    def script(prompt: str, schema: dict) -> str:
        if prompt.startswith("This is part "):
            part = prompt.split()[3]
            return json.dumps({"summary": f"Summary of part {part}: the card was reported stolen."})
        return json.dumps(example(schema))

    backend = ScriptedBackend(script, context_tokens=whole // 4)
    call = copy.deepcopy(demo_call)
    insights = InsightRunner(backend, PromptSet.load()).run(call)
    assert all(insight.value is not None for insight in insights)

    prompts = [request[1] for request in backend.requests]
    parts = [prompt for prompt in prompts if prompt.startswith("This is part ")]
    assert len(parts) >= 4 and prompts[:len(parts)] == parts  # map first, then the insights
    assert len(prompts) == len(parts) + len(SHIPPED_NAMES)
    seen = []
    for number, prompt in enumerate(parts, start=1):
        assert prompt.startswith(f"This is part {number} of {len(parts)} ")
        body = prompt.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0]
        assert estimate_tokens(body) <= backend.context_tokens
        seen += body.split("\n")
    assert seen == lines  # every turn, once, in order, cut only between turns
    for prompt in prompts[len(parts):]:
        assert f"below are summaries of its {len(parts)} parts" in prompt
        assert all(f"Part {n}: Summary of part {n}: the card was reported stolen." in prompt
                   for n in range(1, len(parts) + 1))
        assert lines[1] not in prompt


def test_summaries_that_do_not_shrink_are_cut_to_fit_with_a_warning(demo_call):
    """A model that answers a part with the part itself: no stage makes the text shorter, so the
    runner stops, keeps what fits the context and says so, rather than looping or overflowing."""
    whole = estimate_tokens("\n".join(transcript_lines(demo_call)))

    def script(prompt: str, schema: dict) -> str:
        if prompt.startswith("This is part "):
            body = prompt.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0]
            return json.dumps({"summary": body})
        return json.dumps(example(schema))

    backend = ScriptedBackend(script, context_tokens=whole // 3)
    call = copy.deepcopy(demo_call)
    insights = InsightRunner(backend, PromptSet.load()).run(call)
    assert all(insight.value is not None for insight in insights)
    assert call.warnings[-1] == "insights: the part summaries were cut to fit scripted:test's context"
    final = backend.requests[-1][1]
    body = final.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0]
    assert body.startswith("(The call is too long to show whole") and estimate_tokens(body) <= backend.context_tokens

