"""`callscope analyze` cut into the steps the SageMaker pipeline runs apart.

Who spoke when (`diarize_call`) and what was said (`transcribe_call`) depend only on the audio, so
they can run in different containers and in either order; `attribute_speakers` joins them,
`complete_speech` checks the words against the speech regions (the diarizer's, or the segmentation
model's per channel) and transcribes again, alone, any region left without words, and `assemble_conversation`
adds turns and analytics. Each step's result is a typed dataclass that
round-trips through JSON (`to_dict` / `from_dict`), so a step can run in another process or machine
and still give exactly what `analyze_call` gives in one process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from callscope.audio.decode import SAMPLE_RATE, DecodedAudio, decode
from callscope.errors import InputError
from callscope.model import Role, Separation, Speaker, SpeechRegion, Word
from callscope.options import AnalyzeOptions
from callscope.output.rttm import rttm_line
from callscope.speakers.assign import SpeakerSegment, assign_speakers
from callscope.speakers.channels import SpeakerLayout, SpeakerTrack, split_speakers
from callscope.speakers.crosstalk import drop_crosstalk
from callscope.speakers.diarization import Diarizer
from callscope.speakers.regions import detected_regions, not_yet_written, timeline_regions, uncovered, with_words
from callscope.speakers.segmentation import shared_segmentation
from callscope.transcription.base import Transcriber, TranscriptionResult
from callscope.transcription.parallel import transcribe_each

# A call whose loudest sample stays under this (-60 dBFS) is silence, whatever the format.
_SILENT_PEAK = 1e-3


@dataclass
class SpeakerTimeline:
    """Who spoke when on a mono call: segments labelled spk_0, spk_1, ... in the order they first speak.

    Empty for calls whose speakers are their channels, and when no diarizer ran.
    """

    segments: list[SpeakerSegment] = field(default_factory=list)
    diarizer: str = ""

    def to_dict(self) -> dict:
        return {"diarizer": self.diarizer, "segments": [asdict(segment) for segment in self.segments]}

    @classmethod
    def from_dict(cls, data: dict) -> SpeakerTimeline:
        return cls([SpeakerSegment(**segment) for segment in data["segments"]], data.get("diarizer", ""))

    def to_rttm(self, file_id: str) -> str:
        """The diarizer's own segments as RTTM (the call's .rttm output also has the speech of words
        the recogniser heard outside them: callscope.speakers.regions)."""
        ordered = sorted(self.segments, key=lambda segment: (segment.start, segment.speaker))
        return "".join(rttm_line(file_id, s.start, s.end - s.start, s.speaker) + "\n" for s in ordered)


@dataclass
class RecognisedSpeech:
    """The words of a call, one group per recognised segment, each word with its speaker."""

    groups: list[list[Word]]
    language: str  # the call's
    transcriber: str
    separation: Separation  # as Conversation.speaker_separation
    speakers: list[str]  # labels heard, in order
    # Per group, its spoken language; empty (older results) means every group is in `language`.
    group_languages: list[str] = field(default_factory=list)
    # Who spoke when (complete_speech): the diarizer's or the speech detector's regions, and regions of words
    # outside them; empty (older results, or before complete_speech) means the words stand for speech.
    regions: list[SpeechRegion] = field(default_factory=list)

    def group_language(self, index: int) -> str:
        return self.group_languages[index] if self.group_languages else self.language

    def to_dict(self) -> dict:
        return {
            "language": self.language, "transcriber": self.transcriber, "separation": self.separation,
            "speakers": self.speakers,
            "groups": [[asdict(word) for word in group] for group in self.groups],
            "group_languages": self.group_languages,
            "regions": [asdict(region) for region in self.regions],
        }

    @classmethod
    def from_dict(cls, data: dict) -> RecognisedSpeech:
        groups = [[Word(**word) for word in group] for group in data["groups"]]
        regions = [SpeechRegion(**{**region, "loudness_db": tuple(region.get("loudness_db", ()))})
                   for region in data.get("regions", [])]
        return cls(
            groups, data["language"], data["transcriber"], data["separation"], data["speakers"],
            data.get("group_languages", []), regions,
        )


def load_audio(path: Path, options: AnalyzeOptions, sha256: str | None = None) -> DecodedAudio:
    """Decode a call; InputError when it cannot be analysed."""
    audio = decode(path, options.decode, sha256=sha256)
    if float(abs(audio.samples).max()) < _SILENT_PEAK:
        raise InputError(str(path), "audio is silent (peak below -60 dBFS)", "silent")
    return audio


def diarize_call(audio: DecodedAudio, options: AnalyzeOptions, diarizer: Diarizer | None) -> SpeakerTimeline:
    """Who spoke when, for calls that need it (mono, with a diarizer); an empty timeline otherwise."""
    layout = split_speakers(audio, options.speakers)
    if diarizer is None or layout.separation != "none":
        return SpeakerTimeline()
    segments = diarizer.diarize(layout.tracks[0].samples, options.speaker_count)
    order: dict[str, str] = {}
    for segment in sorted(segments, key=lambda item: item.start):
        order.setdefault(segment.speaker, f"spk_{len(order)}")
    return SpeakerTimeline([SpeakerSegment(s.start, s.end, order[s.speaker]) for s in segments], diarizer.name)


def transcribe_call(path: Path, audio: DecodedAudio, options: AnalyzeOptions,
                    transcriber: Transcriber) -> RecognisedSpeech:
    """The words of every track (channel, or the one mono signal); InputError when there are none."""
    layout = split_speakers(audio, options.speakers)
    groups: list[list[Word]] = []
    group_languages: list[str] = []
    languages: list[str] = []
    for track, result in zip(layout.tracks, transcribe_each(transcriber, [track.samples for track in layout.tracks])):
        languages.append(result.language)
        for language, group in _word_groups(result, track.speaker.label):
            group_languages.append(language)
            groups.append(group)
    if layout.separation == "channels":
        kept = drop_crosstalk(groups, {track.speaker.label: track.samples for track in layout.tracks})
        group_languages = [language for language, group in zip(group_languages, kept) if group]
        groups = [group for group in kept if group]
    if not groups:
        raise InputError(str(path), "no speech found in the audio", "no_speech")
    return RecognisedSpeech(
        groups, languages[0] if languages else "en", transcriber.name, layout.separation,
        [track.speaker.label for track in layout.tracks], group_languages,
    )


def _decoded(result: TranscriptionResult, log_prob_threshold: float) -> TranscriptionResult:
    """The segments Whisper decoded with confidence: an average log-probability under its own
    threshold for a failed decode (faster-whisper's log_prob_threshold) is what a short region alone
    gives when the model only guesses (the pyannote sample's opening "Hello?", 0.56 s alone on its
    channel: "from you.", -1.18; the words it did hear there scored -0.25 to -0.88)."""
    return replace(result, segments=[segment for segment in result.segments
                                     if segment.avg_logprob >= log_prob_threshold])


def _word_groups(result: TranscriptionResult, speaker: str, offset: float = 0.0) -> list[tuple[str, list[Word]]]:
    """(language, words) of each recognised segment, its times shifted by `offset` seconds."""
    return [
        (recognised.language or result.language, [
            Word(
                # Segments join with a space, whatever the recogniser put before their first word.
                " " + word.text.lstrip() if index == 0 else word.text,
                round(word.start + offset, 3), round(word.end + offset, 3), round(word.probability, 4), speaker,
            )
            for index, word in enumerate(recognised.words)
        ])
        for recognised in result.segments if recognised.words
    ]


def attribute_speakers(speech: RecognisedSpeech, timeline: SpeakerTimeline) -> RecognisedSpeech:
    """Give every word of a mono call its speaker from the timeline; other calls pass unchanged."""
    if not timeline.segments or speech.separation != "none":
        return speech
    groups = [assign_speakers(group, timeline.segments) for group in speech.groups]
    heard = {word.speaker for group in groups for word in group}
    in_order = list(dict.fromkeys(s.speaker for s in sorted(timeline.segments, key=lambda s: s.start)))
    return replace(speech, groups=groups, separation="diarization",
                   speakers=[label for label in in_order if label in heard])


def complete_speech(speech: RecognisedSpeech, timeline: SpeakerTimeline, audio: DecodedAudio, options: AnalyzeOptions,
                    transcriber: Transcriber) -> RecognisedSpeech:
    """`speech` with its speech regions, each speaker's talk as found apart from the words: the
    diarizer's segments on a diarized mono call, the speech detector's on each channel (or on an
    undiarized mono signal) otherwise. A region no word overlaps is transcribed again, alone, through
    the same transcriber: in a 30 s window of the whole call the recogniser can drop a stretch (its
    guards against text on silence), which on its own it may not; it keeps what Whisper decodes there
    with confidence (`_decoded`). A region still without words stays: speech without words, in RTTM
    and talk time, flagged in the PCA document."""
    signals = _speaker_signals(audio, speech, timeline, options)
    found = _found_regions(speech, timeline, signals, options)
    groups, languages = list(speech.groups), list(speech.group_languages)
    own_signals = speech.separation == "channels"
    written = [word for group in groups for word in group]
    wordless = uncovered(found, written, own_signals)
    spans = [(int(region.start * SAMPLE_RATE), int(np.ceil(region.end * SAMPLE_RATE))) for region in wordless]
    results = transcribe_each(transcriber, [signals[region.speaker][start:end]
                                            for region, (start, end) in zip(wordless, spans)])
    source_of: dict[int, SpeechRegion] = {}  # index of a recovered group -> the region it came from
    for region, (start, _), result in zip(wordless, spans, results):
        result = _decoded(result, options.transcription.log_prob_threshold)
        for language, group in _word_groups(result, region.speaker, start / SAMPLE_RATE):
            group = not_yet_written(group, written, own_signals)
            if not group:
                continue
            source_of[len(groups)] = region
            groups.append(group)
            if languages:  # older results without languages keep none: every group is the call's
                languages.append(language)
    if own_signals and source_of:
        groups, languages, found = _without_other_lines(groups, languages, found, source_of, signals)
    regions = with_words(found, [word for group in groups for word in group], own_signals)
    return replace(speech, groups=groups, group_languages=languages, regions=regions,
                   speakers=_speakers_heard(speech, timeline, regions))


def _without_other_lines(groups: list[list[Word]], languages: list[str], found: list[SpeechRegion],
                         source_of: dict[int, SpeechRegion], signals: dict[str, np.ndarray],
                         ) -> tuple[list[list[Word]], list[str], list[SpeechRegion]]:
    """A region's second transcription on a channel call goes through the crosstalk rule as the first
    pass did: its words may be another line's (echo). A region at least half of whose recovered words
    are another line's is that line's echo, which the segmentation model hears as speech: neither it
    nor any of its words is its channel's (a test call with a 20 dB echo had every echoed phrase back
    on the wrong line; Whisper mishears some words of an echo, which then match no copy)."""
    kept = drop_crosstalk(groups, signals)
    recovered: dict[SpeechRegion, list[int]] = {}
    for index, region in source_of.items():
        counts = recovered.setdefault(region, [0, 0])
        counts[0] += len(groups[index])
        counts[1] += len(groups[index]) - len(kept[index])
    echoed = {region for region, (words, others) in recovered.items() if 2 * others >= words}
    kept = [[] if source_of.get(index) in echoed else group for index, group in enumerate(kept)]
    languages = [language for language, group in zip(languages, kept) if group] if languages else languages
    return [group for group in kept if group], languages, [region for region in found if region not in echoed]


def _speakers_heard(speech: RecognisedSpeech, timeline: SpeakerTimeline, regions: list[SpeechRegion]) -> list[str]:
    """The speakers of words and of regions (one the diarizer found is a speaker even when none of
    their words were recognised); on a diarized call in the order they first speak, as attribute_speakers."""
    labels = set(speech.speakers) | {region.speaker for region in regions}
    order = [*speech.speakers, *(region.speaker for region in regions)]
    if speech.separation == "diarization":
        order = [segment.speaker for segment in sorted(timeline.segments, key=lambda item: item.start)] + order
    return [label for label in dict.fromkeys(order) if label in labels]


def _speaker_signals(audio: DecodedAudio, speech: RecognisedSpeech, timeline: SpeakerTimeline,
                     options: AnalyzeOptions) -> dict[str, np.ndarray]:
    """The signal each speaker is heard in: their channel, or the one mono signal."""
    layout = split_speakers(audio, options.speakers)
    if layout.separation == "channels":
        return {track.speaker.label: track.samples for track in layout.tracks}
    (track,) = layout.tracks
    labels = {track.speaker.label, *speech.speakers, *(segment.speaker for segment in timeline.segments)}
    return {label: track.samples for label in labels}


def _found_regions(speech: RecognisedSpeech, timeline: SpeakerTimeline, signals: dict[str, np.ndarray],
                   options: AnalyzeOptions) -> list[SpeechRegion]:
    if speech.separation == "diarization":
        return timeline_regions(timeline.segments)
    segmentation = shared_segmentation(options.transcription.threads)
    return [region for label in speech.speakers for region in detected_regions(signals[label], label, segmentation)]


def speaker_layout(audio: DecodedAudio, speech: RecognisedSpeech, options: AnalyzeOptions) -> SpeakerLayout:
    """The tracks behind `speech`'s speakers: channels, or the mono signal shared by diarized speakers."""
    layout = split_speakers(audio, options.speakers)
    if speech.separation != "diarization":
        return layout
    (track,) = layout.tracks
    tracks = [SpeakerTrack(Speaker(label=label, role=Role.UNKNOWN), track.samples) for label in speech.speakers]
    return replace(layout, tracks=tracks, separation="diarization")
