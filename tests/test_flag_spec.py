"""The flag spec (callscope.flags): each option is declared once and reaches `callscope analyze`, the
SageMaker steps' parsers and AnalyzeOptions from there (the pipeline's side: test_pipeline_definition.py)."""

from __future__ import annotations

import argparse

import click
import pytest
from click.testing import CliRunner

from callscope.cli.analyze import analyze
from callscope.cli.flags import flag_options
from callscope.flags import (
    ENRICH_FLAGS,
    LOCAL_FLAGS,
    MODEL_FLAGS,
    STEP_FLAGS,
    TRANSCRIBE_FLAGS,
    Flag,
    options_from_values,
)
from callscope.options import MULTILINGUAL_MODEL, AnalyzeOptions, AsrEngine, DiarizerName, EnrichmentOptions
from callscope.sagemaker_steps.step import analysis_arguments, options_from
from callscope.speakers.diarization import SpeakerCount

# A new option, declared once: it sets the beam size.
DUMMY = Flag("dummy-beam", 3, "A dummy.", type=int, minimum=1, fields=("transcription.beam_size",))


def _parser(flags: tuple[Flag, ...]) -> argparse.ArgumentParser:
    return analysis_arguments(argparse.ArgumentParser(exit_on_error=False), flags)


def test_analyze_and_the_steps_take_every_flag_of_the_spec():
    assert {flag.dest for flag in MODEL_FLAGS + LOCAL_FLAGS + TRANSCRIBE_FLAGS} <= {p.name for p in analyze.params}
    parsed = vars(_parser(STEP_FLAGS + ENRICH_FLAGS).parse_args([]))
    assert parsed == {flag.dest: ("yes" if flag.default else "no") if flag.type is bool else flag.default
                      for flag in STEP_FLAGS + ENRICH_FLAGS}


def test_a_flag_declared_once_sets_its_option_from_the_command_line_and_from_the_steps():
    made = []

    @click.command()
    @flag_options(DUMMY)
    def command(**values):
        made.append(options_from_values(values, (DUMMY,)))

    assert CliRunner().invoke(command, ["--dummy-beam", "9"]).exit_code == 0
    assert made.pop().transcription.beam_size == 9
    refused = CliRunner().invoke(command, ["--dummy-beam", "0"])  # below its minimum
    assert refused.exit_code == 2 and "--dummy-beam" in refused.output
    assert CliRunner().invoke(command, []).exit_code == 0 and made.pop().transcription.beam_size == 3
    assert options_from(_parser((DUMMY,)).parse_args(["--dummy-beam", "4"]), (DUMMY,)).transcription.beam_size == 4


def test_values_reach_their_fields_through_their_conversions():
    options = options_from_values({"speakers": "auto", "min_speakers": 3, "max_speakers": 8, "language": "auto",
                                   "device": "cuda"})
    assert options.speaker_count == SpeakerCount(exact=None, minimum=3, maximum=8)  # bounds set together
    assert (options.transcription.language, options.transcription.model) == (None, MULTILINGUAL_MODEL)
    assert options.transcription.device == options.pyannote.device == "cuda"
    enriched = options_from_values({"enrichment": "comprehend", "redact": "yes", "llm_model": ""}, ENRICH_FLAGS)
    chosen = enriched.enrichment
    assert (chosen.sentiment, chosen.entities, chosen.pii, chosen.redact) == ("comprehend",) * 3 + (True,)
    assert enriched.insights.model is None  # "" is none: pipeline parameters cannot be left out


@pytest.mark.parametrize("values, message", [
    ({"speakers": "two"}, "--speakers 'two' is not a number or 'auto'"),
    ({"min_speakers": 5, "max_speakers": 4}, "1 <= min <= max"),
    ({"asr": "transcribe"}, "--asr transcribe needs --s3-bucket"),
])
def test_values_that_cannot_be_used_are_one_line_value_errors(values, message):
    with pytest.raises(ValueError, match=message) as raised:
        options_from_values(values)
    assert "\n" not in str(raised.value)


def test_choices_become_enum_members_and_a_wrong_one_is_named():
    options = options_from_values({"diarizer": "pyannote"})
    assert options.diarizer is DiarizerName.PYANNOTE and options.asr is AsrEngine.WHISPER
    # Results keep their fingerprint: a member is hashed as its value.
    assert AnalyzeOptions(diarizer="none").fingerprint() == AnalyzeOptions(diarizer=DiarizerName.NONE).fingerprint()
    with pytest.raises(ValueError, match="diarizer 'kaldi' is not one of embedded, pyannote, none"):
        AnalyzeOptions(diarizer="kaldi")
    with pytest.raises(ValueError, match="sentiment 'cloud' is not one of local, comprehend, none"):
        EnrichmentOptions(sentiment="cloud")
