"""One call through every stage: decode → speakers → words → turns → analytics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from callscope.analytics.loudness import loudness_per_second
from callscope.analytics.talk_time import non_talk_periods, speaker_talk_time
from callscope.audio.decode import DecodedAudio, decode
from callscope.errors import InputError
from callscope.metadata import metadata_from_filename
from callscope.model import Conversation, Turn, Word
from callscope.options import AnalyzeOptions
from callscope.speakers.channels import SpeakerLayout, split_speakers
from callscope.speakers.diarization import Diarizer
from callscope.speakers.mono import diarize_mono
from callscope.speakers.roles import apply_roles, detect_roles
from callscope.transcription.base import Transcriber
from callscope.turns import build_turns, split_at_pauses

# A call whose loudest sample stays under this (-60 dBFS) is silence, whatever the format.
_SILENT_PEAK = 1e-3

StageHook = Callable[[str], None]


def analyze_call(
    path: Path,
    transcriber: Transcriber,
    options: AnalyzeOptions = AnalyzeOptions(),
    sha256: str | None = None,
    on_stage: StageHook | None = None,
    diarizer: Diarizer | None = None,
) -> Conversation:
    """Analyse one recording. Raises InputError for anything wrong with the file.

    Mono calls are diarized when a `diarizer` is given; otherwise they keep one speaker.
    """
    report = on_stage or (lambda stage: None)
    report("decoding")
    audio = decode(path, options.decode, sha256=sha256)
    if float(abs(audio.samples).max()) < _SILENT_PEAK:
        raise InputError(str(path), "audio is silent (peak below -60 dBFS)", "silent")
    layout = split_speakers(audio, options.speakers)
    report("transcribing")
    word_groups, language = _transcribe_tracks(layout, transcriber)
    if not word_groups:
        raise InputError(str(path), "no speech found in the audio", "no_speech")
    if diarizer is not None and layout.separation == "none":
        report("diarizing")
        layout, word_groups = diarize_mono(layout, word_groups, diarizer, options.speaker_count)
    report("analysing")
    segments = [segment for group in word_groups for segment in split_at_pauses(group, options.turns.segment_pause_secs)]
    return _assemble(path, audio, layout, segments, language, transcriber.name, options)


def _transcribe_tracks(layout: SpeakerLayout, transcriber: Transcriber) -> tuple[list[list[Word]], str]:
    """The words of every track, one group per recognised segment."""
    groups: list[list[Word]] = []
    languages: list[str] = []
    for track in layout.tracks:
        result = transcriber.transcribe(track.samples)
        languages.append(result.language)
        for recognised in result.segments:
            groups.append(
                [
                    Word(
                        # Segments join with a space, whatever the recogniser put before their first word.
                        " " + word.text.lstrip() if index == 0 else word.text,
                        round(word.start, 3),
                        round(word.end, 3),
                        round(word.probability, 4),
                        track.speaker.label,
                    )
                    for index, word in enumerate(recognised.words)
                ]
            )
    return groups, (languages[0] if languages else "en")


def _assemble(
    path: Path,
    audio: DecodedAudio,
    layout: SpeakerLayout,
    segments: list[Turn],
    language: str,
    transcriber_name: str,
    options: AnalyzeOptions,
) -> Conversation:
    separated = layout.separation != "none"
    turns = build_turns(segments, options.turns, merge=separated)
    signals = {track.speaker.label: track.samples for track in layout.tracks}
    for turn in turns:
        turn.loudness_db = loudness_per_second(signals[turn.speaker], turn.start, turn.end)
    words = [word for turn in turns for word in turn.words]
    speakers = [track.speaker for track in layout.tracks]
    if layout.separation == "diarization":
        # Mono calls have no channel definitions: the roles come from what each speaker says.
        decision = detect_roles(turns, [speaker.label for speaker in speakers], options.role_phrases)
        speakers = apply_roles(speakers, decision)
    return Conversation(
        source=audio.source,
        speakers=speakers,
        turns=turns,
        language=language,
        metadata=metadata_from_filename(path.name, audio.source.sha256, options.filename_metadata),
        speaker_separation=layout.separation,
        non_talk=non_talk_periods(words, audio.duration, options.turns.non_talk_min_secs),
        speaker_time=speaker_talk_time(
            words, [speaker.label for speaker in speakers], options.turns.segment_pause_secs
        ),
        transcriber=transcriber_name,
        processed_at=datetime.now(),
        warnings=list(layout.warnings),
    )
