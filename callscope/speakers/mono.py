"""Speakers on a mono call: diarize the one signal, then give every word its speaker."""

from __future__ import annotations

from dataclasses import replace

from callscope.model import Role, Speaker, Word
from callscope.speakers.assign import SpeakerSegment, assign_speakers
from callscope.speakers.channels import SpeakerLayout, SpeakerTrack
from callscope.speakers.diarization import Diarizer, SpeakerCount


def diarize_mono(
    layout: SpeakerLayout, word_groups: list[list[Word]], diarizer: Diarizer, count: SpeakerCount
) -> tuple[SpeakerLayout, list[list[Word]]]:
    """Split the single track of `layout` into speakers and relabel the words.

    Speakers are numbered spk_0, spk_1, ... in the order they first speak. Every speaker shares the
    mono signal (loudness is measured on it).
    """
    (track,) = layout.tracks
    segments = diarizer.diarize(track.samples, count)
    if not segments:
        return layout, word_groups
    order: dict[str, str] = {}
    for segment in sorted(segments, key=lambda item: item.start):
        order.setdefault(segment.speaker, f"spk_{len(order)}")
    relabelled = [SpeakerSegment(s.start, s.end, order[s.speaker]) for s in segments]
    groups = [assign_speakers(group, relabelled) for group in word_groups]
    heard = {word.speaker for group in groups for word in group}
    tracks = [
        SpeakerTrack(Speaker(label=label, role=Role.UNKNOWN), track.samples)
        for label in order.values()
        if label in heard
    ]
    return replace(layout, tracks=tracks, separation="diarization"), groups
