"""Running a prompt set over a call: one Insight per prompt, whatever goes wrong with any of them.

With an LLM backend, each prompt is rendered over the transcript and sent with its schema; the
answer must hold a JSON object matching the schema, else the prompt is asked once more with the
problem appended, and a second failure is recorded as the insight's `error`. A backend that cannot
be reached before it has answered anything is not asked again for the rest of the call.

Calls longer than the backend's context are summarised in stages (map-reduce): the transcript is cut
at turn boundaries into parts that fit, each part is summarised with the set's chunk prompt, and the
insight prompts read the parts' summaries in place of the transcript (summarised again if those
still do not fit). Without a backend, the embedded default answers from the call's enrichment.
"""

from __future__ import annotations

import json

from callscope.errors import InsightBackendError, first_line
from callscope.insights import LLMBackend
from callscope.insights.answers import read_answer, schema_problem
from callscope.insights.embedded import EMBEDDED_NAME, EmbeddedInsights, NotAnswerable
from callscope.insights.prompts import InsightPrompt, PromptSet
from callscope.insights.results import display_text
from callscope.insights.transcript import CHARS_PER_TOKEN, chunk_lines, estimate_tokens, transcript_lines
from callscope.model import Conversation, Insight

NEEDS_LLM = "needs an LLM backend (--insights bedrock|openai|llamacpp)"
MIN_TRANSCRIPT_TOKENS = 128  # below this a context is too small to be worth cutting a call for
MAX_STAGES = 3  # summaries of summaries at most this deep; calls needing more are cut short
SCHEMA_NOTE = "\n\nAnswer with one JSON object matching this JSON Schema:\n"
RETRY_NOTE = "\n\nYour previous answer could not be used: {problem}. Answer again with only the JSON object."
LONG_CALL_NOTE = "(The call is too long to show whole: below are summaries of its {parts} parts, in order.)\n"


class InsightRunner:
    def __init__(self, backend: LLMBackend | None, prompts: PromptSet,
                 embedded: EmbeddedInsights | None = None) -> None:
        self.backend = backend
        self.prompts = prompts
        self.embedded = embedded or EmbeddedInsights()

    def run(self, conversation: Conversation) -> list[Insight]:
        """One insight per prompt, in the set's order; never raises for a prompt's failure.

        An insight the call came with (Call Analytics' own summary) is kept and its prompt not asked."""
        given = {insight.name: insight for insight in conversation.insights if insight.value is not None}
        to_ask = [prompt for prompt in self.prompts.prompts if prompt.name not in given]
        if not to_ask:
            answers = []
        elif self.backend is None:
            answers = [self._embedded(prompt, conversation) for prompt in to_ask]
        else:
            answers = _CallSession(self, self.backend, conversation).run(to_ask)
        answered = {insight.name: insight for insight in answers}
        names = {prompt.name for prompt in self.prompts.prompts}
        return [given.get(prompt.name) or answered[prompt.name] for prompt in self.prompts.prompts] + [
            insight for name, insight in given.items() if name not in names]

    def _embedded(self, prompt: InsightPrompt, conversation: Conversation) -> Insight:
        if prompt.embedded is None:
            return _failed(prompt, EMBEDDED_NAME, NEEDS_LLM)
        try:
            value = self.embedded.answer(prompt.embedded, conversation)
        except NotAnswerable as error:
            return _failed(prompt, EMBEDDED_NAME, str(error))
        except Exception as error:  # a bug in one rule must not cost the call's other results
            return _failed(prompt, EMBEDDED_NAME, f"{type(error).__name__}: {first_line(error)}")
        problem = schema_problem(value, prompt.schema)
        if problem:  # a user changed the schema of a prompt the embedded rule answers
            return _failed(prompt, EMBEDDED_NAME, f"the embedded answer does not match the prompt's schema: {problem}")
        return Insight(prompt.name, value, EMBEDDED_NAME, title=prompt.title)


class _CallSession:
    """The state of one call's requests: whether the backend has answered yet, or is unreachable."""

    def __init__(self, runner: InsightRunner, backend: LLMBackend, conversation: Conversation) -> None:
        self.runner = runner
        self.backend = backend
        self.conversation = conversation
        self.system = runner.prompts.system
        self.answered = False
        self.unreachable = ""

    def run(self, prompts: list[InsightPrompt]) -> list[Insight]:
        categories = ", ".join(match.name for match in self.conversation.categories) or "none"
        lines = transcript_lines(self.conversation)
        transcript = "\n".join(lines)
        # The backend's context_tokens is what the transcript may take: it has kept room for the
        # system prompt, the instruction with its schema, and the answer.
        if estimate_tokens(transcript) > self.backend.context_tokens:
            try:
                transcript = self._summarise_in_stages(lines, self.backend.context_tokens)
            except _StagesFailed as failure:
                self._warn(f"the call is too long for {self.backend.name} and could not be summarised: {failure}")
                return [_failed(prompt, self.backend.name, f"long call not summarised: {failure}")
                        for prompt in prompts]
        return [self.ask(prompt, transcript, categories=categories) for prompt in prompts]

    def ask(self, prompt: InsightPrompt, transcript: str, **values: str) -> Insight:
        """The prompt's validated answer, asked at most twice; an Insight with `error` otherwise."""
        if self.unreachable:
            return _failed(prompt, self.backend.name, f"not asked: {self.unreachable}")
        request = prompt.render(transcript, **values) + SCHEMA_NOTE + json.dumps(prompt.schema)
        problem = ""
        for attempt in range(2):
            text = request if attempt == 0 else request + RETRY_NOTE.format(problem=problem)
            try:
                answer = self.backend.complete_json(self.system, text, prompt.schema)
            except InsightBackendError as error:
                if not self.answered:  # nothing has worked yet: the backend is down, not this prompt
                    self.unreachable = f"{self.backend.name} unavailable ({first_line(error)})"
                    self._warn(self.unreachable)
                return _failed(prompt, self.backend.name, first_line(error))
            except Exception as error:  # a backend's own bug must not cost the call's other results
                return _failed(prompt, self.backend.name, f"{type(error).__name__}: {first_line(error)}")
            self.answered = True
            if isinstance(answer, str):
                value, problem = read_answer(answer, prompt.schema)
            else:
                value, problem = None, f"the backend returned {type(answer).__name__}, not text"
            if not problem:
                return Insight(prompt.name, value, self.backend.name, title=prompt.title)
        return _failed(prompt, self.backend.name, f"invalid answer after one retry: {problem}")

    def _summarise_in_stages(self, lines: list[str], budget: int) -> str:
        """The transcript's parts summarised (and their summaries summarised, while they do not
        fit), as the text the insight prompts read in place of the transcript."""
        if budget < MIN_TRANSCRIPT_TOKENS:
            raise _StagesFailed(f"{budget} transcript tokens are too few to summarise a call in parts")
        chunk_prompt = self.runner.prompts.chunk_summary
        previous = sum(estimate_tokens(line) for line in lines)
        for _ in range(MAX_STAGES):
            chunks = chunk_lines(lines, budget)
            # Parts' summaries share the insight prompts' budget; a word is about 1.3 tokens.
            max_words = max(20, min(250, int(budget * 0.9 / len(chunks) / 1.3)))
            summaries, failures = [], []
            for number, chunk in enumerate(chunks, start=1):
                insight = self.ask(chunk_prompt, "\n".join(chunk), part=str(number), parts=str(len(chunks)),
                                   max_words=str(max_words))
                if insight.value is None:
                    failures.append(f"part {number}: {insight.error}")
                else:
                    summaries.append(f"Part {number}: {' '.join(display_text(insight.value).split())}")
            if not summaries:
                raise _StagesFailed(failures[0])
            if failures:
                self._warn(f"{len(failures)} of {len(chunks)} parts of the call not summarised ({failures[0]})")
            text = LONG_CALL_NOTE.format(parts=len(chunks)) + "\n".join(summaries)
            if estimate_tokens(text) <= budget:
                return text
            size = estimate_tokens(text)
            if size >= previous:  # the summaries are no shorter than what they summarise
                break
            lines, previous = summaries, size
        # Still too long: keep what fits, and say so.
        self._warn(f"the part summaries were cut to fit {self.backend.name}'s context")
        return text[:budget * CHARS_PER_TOKEN]

    def _warn(self, message: str) -> None:
        self.conversation.warnings.append(f"insights: {message}")


class _StagesFailed(Exception):
    pass


def _failed(prompt: InsightPrompt, backend: str, error: str) -> Insight:
    return Insight(prompt.name, None, backend, error=" ".join(error.split()), title=prompt.title)
