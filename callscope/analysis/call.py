"""One call through every stage: decode → speakers → words → turns → analytics.

`analyze` takes any call: a recording through the local models (`analyze_call`) or Amazon Transcribe
(`analyze_call_with_service`), or a chat or transcript, which skips the audio stages (`analyze_transcript`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from callscope.analysis.engines import Engines
from callscope.analysis.stages import (
    RecognisedSpeech,
    SpeakerTimeline,
    attribute_speakers,
    complete_speech,
    diarize_call,
    load_audio,
    speaker_layout,
    transcribe_call,
)
from callscope.analysis.turn_languages import set_turn_languages
from callscope.analytics.loudness import loudness_per_second
from callscope.analytics.talk_time import non_talk_periods, speaker_talk_time
from callscope.audio.decode import DecodedAudio
from callscope.enrichment import Enricher
from callscope.inputs.load import is_transcript_path, load_transcript
from callscope.inputs.options import ChatOptions
from callscope.inputs.source_analytics import enrich_keeping_source
from callscope.metadata import metadata_from_filename
from callscope.model import Conversation, SpeechRegion, Turn
from callscope.options import AnalyzeOptions
from callscope.speakers.channels import SpeakerLayout
from callscope.speakers.diarization import Diarizer
from callscope.speakers.roles import apply_roles, detect_roles
from callscope.transcription.base import Transcriber
from callscope.transcription.parallel import workers_of

if TYPE_CHECKING:
    from callscope.insights.runner import InsightRunner
    from callscope.transcription.amazon import AmazonTranscribeService
    from callscope.transcription.translate import AudioTranslator
from callscope.turns import build_turns, split_at_pauses

StageHook = Callable[[str], None]


def analyze(source: Path, engines: Engines, options: AnalyzeOptions = AnalyzeOptions(), *,
            sha256: str | None = None, on_stage: StageHook | None = None) -> Conversation:
    """One call, whatever it is: a recording (through the local models, or Amazon Transcribe when
    `engines` holds its service), a chat or an existing transcript. Raises a CallError (one line) for
    anything wrong with the call; `on_stage` hears each stage's name as it starts."""
    if is_transcript_path(source):
        return analyze_transcript(source, options, engines.enrichers, sha256=sha256, on_stage=on_stage,
                                  chat=options.chat, insights=engines.insights)
    if engines.service is not None:
        return analyze_call_with_service(source, engines.service, options, sha256=sha256, on_stage=on_stage,
                                         enrichers=engines.enrichers, insights=engines.insights)
    return analyze_call(source, engines.transcriber, options, sha256=sha256, on_stage=on_stage,
                        diarizer=engines.diarizer, enrichers=engines.enrichers, translator=engines.translator,
                        insights=engines.insights)


def analyze_call(
    path: Path,
    transcriber: Transcriber,
    options: AnalyzeOptions = AnalyzeOptions(),
    sha256: str | None = None,
    on_stage: StageHook | None = None,
    diarizer: Diarizer | None = None,
    enrichers: list[Enricher] | None = None,
    translator: AudioTranslator | None = None,
    insights: InsightRunner | None = None,
) -> Conversation:
    """Analyse one recording. Raises InputError for anything wrong with the file.

    Mono calls are diarized when a `diarizer` is given; otherwise they keep one speaker. The steps
    are those of callscope.analysis.stages, which the SageMaker pipeline runs one per container.
    """
    report = on_stage or (lambda stage: None)
    report("decoding")
    audio = load_audio(path, options, sha256)
    report("transcribing")
    with ThreadPoolExecutor(1, thread_name_prefix="diarize") as beside:
        # A mono call is diarized while it is transcribed where Whisper runs several CPU workers
        # (FasterWhisperTranscriber.workers): 28-35 s for a 278 s call on 2 cores, against 42-49 s one
        # after the other. On a GPU, or on one thread, it is diarized after.
        alongside = diarizer is not None and workers_of(transcriber) > 1
        diarizing = beside.submit(diarize_call, audio, options, diarizer) if alongside else None
        speech = transcribe_call(path, audio, options, transcriber)
        timeline = SpeakerTimeline()
        if diarizer is not None and speech.separation == "none":
            report("diarizing")
            timeline = diarizing.result() if diarizing else diarize_call(audio, options, diarizer)
            speech = attribute_speakers(speech, timeline)
    speech = complete_speech(speech, timeline, audio, options, transcriber)
    report("analysing")
    conversation = assemble_conversation(path, audio, speech, options, translator)
    return add_meaning(conversation, enrichers, insights, report)


def analyze_call_with_service(
    path: Path,
    service: AmazonTranscribeService,
    options: AnalyzeOptions = AnalyzeOptions(),
    sha256: str | None = None,
    on_stage: StageHook | None = None,
    enrichers: list[Enricher] | None = None,
    insights: InsightRunner | None = None,
) -> Conversation:
    """Analyse one recording whose words come from Amazon Transcribe (`--asr transcribe`): what the
    job computed is kept, callscope's enrichers and insights fill the rest. Raises InputError for
    the file, AwsServiceError for the service, each one line."""
    from callscope.transcription.amazon_call import conversation_from_service

    report = on_stage or (lambda stage: None)
    report("decoding")
    audio = load_audio(path, options, sha256)
    report("Amazon Transcribe")

    def waiting(status: str, waited: float) -> None:  # a job can take minutes: say what it is doing
        report(f"Amazon Transcribe job {status.lower().replace('_', ' ')} ({waited:.0f} s)")

    converted = conversation_from_service(path, audio, service.transcribe(path, audio, waiting), options)
    return add_meaning(converted.conversation, enrichers, insights, report, converted.provided, converted.origin)


def add_meaning(conversation: Conversation, enrichers: list[Enricher] | None, insights: InsightRunner | None,
                report: StageHook = lambda stage: None, provided: frozenset[str] | None = None,
                origin: str = "") -> Conversation:
    """Enrichment, then insights (which read the enrichment): the same for calls, chats and
    transcripts. What the source computed itself is kept (callscope.inputs.source_analytics):
    `provided` / `origin` for a call Amazon Transcribe analysed, else what a transcript input says."""
    if enrichers:
        report("enriching")
        enrich_keeping_source(conversation, enrichers, provided, origin)
    if insights is not None:
        report("insights")
        conversation.insights = insights.run(conversation)  # keeps what the source computed
    return conversation


def analyze_transcript(
    path: Path,
    options: AnalyzeOptions = AnalyzeOptions(),
    enrichers: list[Enricher] | None = None,
    sha256: str | None = None,
    on_stage: StageHook | None = None,
    chat: ChatOptions = ChatOptions(),
    insights: InsightRunner | None = None,
) -> Conversation:
    """Analyse a chat or an existing transcript (callscope.inputs): the same Conversation, the
    same enrichment and insights as a recording. Raises InputError for anything wrong with the file."""
    report = on_stage or (lambda stage: None)
    report("reading")
    conversation = load_transcript(path, options, chat, sha256)
    # What a Call Analytics document computed itself is kept; chats get every enricher.
    return add_meaning(conversation, enrichers, insights, report)


def assemble_conversation(path: Path, audio: DecodedAudio, speech: RecognisedSpeech, options: AnalyzeOptions,
                          translator: AudioTranslator | None = None) -> Conversation:
    """Turns, languages and translations, talk time, loudness and roles from the attributed words of a call."""
    layout = speaker_layout(audio, speech, options)
    segments = [segment for group in speech.groups
                for segment in split_at_pauses(group, options.turns.segment_pause_secs)]
    return _assemble(path, audio, layout, segments, speech, options, translator)


def _assemble(
    path: Path,
    audio: DecodedAudio,
    layout: SpeakerLayout,
    segments: list[Turn],
    speech: RecognisedSpeech,
    options: AnalyzeOptions,
    translator: AudioTranslator | None,
) -> Conversation:
    separated = layout.separation != "none"
    turns = build_turns(segments, options.turns, merge=separated)
    signals = {track.speaker.label: track.samples for track in layout.tracks}
    for turn in turns:
        turn.loudness_db = loudness_per_second(signals[turn.speaker], turn.start, turn.end)
    set_turn_languages(turns, speech)
    warnings = list(layout.warnings)
    if translator is not None:
        warnings += [outcome.warning for outcome in translator.translate(signals, turns) if not outcome.english]
    words = [word for turn in turns for word in turn.words]
    # Speech without words has no turn to carry its loudness: its region does.
    regions = [replace(region, loudness_db=_loudness(signals[region.speaker], region))
               if region.without_words else region for region in speech.regions]
    speakers = [track.speaker for track in layout.tracks]
    if layout.separation == "diarization":
        # Mono calls have no channel definitions: the roles come from what each speaker says.
        decision = detect_roles(turns, [speaker.label for speaker in speakers], options.role_phrases)
        speakers = apply_roles(speakers, decision)
    return Conversation(
        source=audio.source,
        speakers=speakers,
        turns=turns,
        language=speech.language,
        metadata=metadata_from_filename(path.name, audio.source.sha256, options.filename_metadata),
        speaker_separation=layout.separation,
        non_talk=non_talk_periods(words, audio.duration, options.turns.non_talk_min_secs, regions),
        speech_regions=regions,
        speaker_time=speaker_talk_time(
            words, [speaker.label for speaker in speakers], options.turns.segment_pause_secs, regions
        ),
        transcriber=speech.transcriber,
        vocabulary=options.transcription.vocabulary.name if options.transcription.vocabulary else "",
        processed_at=datetime.now(),
        warnings=warnings,
    )


def _loudness(samples: np.ndarray, region: SpeechRegion) -> tuple[float, ...]:
    """Loudness of speech without words, per started second, as a turn's."""
    return tuple(loudness_per_second(samples, region.start, region.end))
