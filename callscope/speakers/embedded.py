"""The embedded diarizer: who spoke when on a mono call, with models shipped in the package.

In the manner of pyannote's speaker-diarization-3.x pipeline, without pyannote.audio or a hub:
1. segmentation-3.0 (ONNX) on 10 s windows every `step_secs`: up to 3 local speakers per window,
   overlapped speech included (powerset output);
2. each local speaker's speech in a window cut at pauses (the model often keeps one local speaker
   when another voice takes over after a pause), and one GE2E embedding per piece, from the frames
   where that piece's speaker talks alone;
3. spectral clustering of the embeddings, refined so two pieces heard at the same time never merge;
   with `--speakers auto`, the count grows while each new speaker's voice is distinct (below);
4. per frame, the clusters' activity averaged over windows and the segmentation's speaker count
   decide who speaks, so overlapped speech yields two speakers;
5. on calls long enough, each single-speaker stretch is re-decided by Gaussian mixtures trained on
   this call's own speakers (resegmentation.py), which fixes most confusions of similar voices.
Measured on the pyannote sample: DER 6.0% at collar 0 (docs/BENCHMARKS.md, "Counting speakers").
With `--speakers auto` the count was right on 42 of 60 real 2-4 speaker clips (same section).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.speakers.assign import SpeakerSegment
from callscope.speakers.clustering import (
    assign_within_windows,
    most_alike,
    normalise_rows,
    spectral_clusters,
    split_at_pauses,
)
from callscope.speakers.diarization import SpeakerCount
from callscope.speakers.embedding import MEL_HOP, SpeakerEncoder, mel_frames
from callscope.speakers.resegmentation import ResegmentationOptions, resegment
from callscope.speakers.segmentation import (
    FRAME_STEP,
    RATE,
    RECEPTIVE_FIELD,
    WINDOW,
    Segmentation,
    WindowAverage,
    frame_spans,
)

_MELS_PER_SEC = RATE // MEL_HOP


@dataclass(frozen=True)
class CountCriterion:
    """When `--speakers auto` takes one more speaker: while every two speakers' voices (one GE2E
    embedding of all the speech each has alone) are less alike than `alike`, and each has at least
    `min_speech_secs` alone. The second speaker needs only some speech alone and to be less alike
    than `first_alike`: the two parties of the demo call scored up to 0.92, and a call taken for one
    voice loses half its speakers' words. Chosen on the calibration clips of bench/meetings.py
    (docs/BENCHMARKS.md, "Counting speakers"): `alike` 0.80-0.87 counted 19-21 of 30 right there,
    0.84 most. GE2E cannot do much better: a third cluster cut from one of two voices scored 0.83
    to 0.97, two different people 0.5 to 0.92."""

    first_alike: float = 0.95
    alike: float = 0.84
    min_speech_secs: float = 2.5


class EmbeddedDiarizer:
    name = "embedded"

    def __init__(
        self,
        threads: int = 1,
        step_secs: float = 1.0,  # 2 s halves the time for 1-2 DER points on the pyannote sample
        min_clean_secs: float = 1.0,  # speech alone needed for an embedding that shapes the clusters
        min_any_secs: float = 0.2,  # speech needed for an embedding that is only assigned
        pause_secs: float = 0.3,  # a local speaker's speech is cut into pieces at pauses this long
        refine_iterations: int = 10,
        batch: int = 4,
        resegmentation: ResegmentationOptions | None = ResegmentationOptions(),  # None: first pass only
        counting: CountCriterion = CountCriterion(),
        model_dir: Path | None = None,  # an unpacked model package; None: the models installed with callscope
    ) -> None:
        self.segmentation = Segmentation(threads, model_dir, batch)
        self.encoder = SpeakerEncoder(threads, model_dir)
        self.step_secs = step_secs
        self.min_clean_secs = min_clean_secs
        self.min_any_secs = min_any_secs
        self.pause_secs = pause_secs
        self.refine_iterations = refine_iterations
        self.resegmentation = resegmentation
        self.counting = counting

    def diarize(self, samples: np.ndarray, count: SpeakerCount = SpeakerCount()) -> list[SpeakerSegment]:
        signal = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(signal) < RECEPTIVE_FIELD:
            return []
        starts, activity = self.segmentation.windows(signal, self.step_secs)
        frame_secs = FRAME_STEP / RATE
        pieces, overlaps = split_at_pauses(
            activity, int(round(self.pause_secs / frame_secs)), int(np.ceil(self.min_any_secs / frame_secs))
        )
        mels = mel_frames(signal)
        table, valid, trusted = self._embed(mels, starts, pieces)
        if not trusted.any():
            return []
        speaking = self._speaking(len(signal), starts, pieces, overlaps, mels, (table, valid, trusted), count)
        segments = self._segments(speaking, len(signal))
        return resegment(mels, segments, self.resegmentation) if self.resegmentation else segments

    def _embed(self, mels: np.ndarray, starts: np.ndarray, activity: np.ndarray):
        """One embedding per (window, piece of a local speaker's speech): (windows, pieces, 256), with
        the valid ones (enough speech to be assigned) and the trusted ones (enough speech alone to
        shape the clusters)."""
        frames, local = activity.shape[1:]
        overlapped = activity.sum(-1) > 1
        frame_secs = FRAME_STEP / RATE
        sequences, keys, shapes_clusters = [], [], []
        for window, start in enumerate(starts):
            mel_index = np.arange(int(np.ceil(start / MEL_HOP)), min(len(mels), (start + WINDOW) // MEL_HOP))
            frame_index = np.clip(
                np.round((mel_index * MEL_HOP - start - RECEPTIVE_FIELD // 2) / FRAME_STEP).astype(int), 0, frames - 1
            )
            for speaker in range(local):
                active = activity[window, :, speaker] > 0
                alone = active & ~overlapped[window]
                if alone.sum() * frame_secs >= self.min_clean_secs:
                    chosen, shapes = alone, True
                elif active.sum() * frame_secs >= self.min_any_secs:
                    chosen, shapes = (alone if alone.sum() * frame_secs >= self.min_any_secs else active), False
                else:
                    continue
                selected = mel_index[chosen[frame_index]]
                if len(selected) >= 10:
                    sequences.append(mels[selected])
                    keys.append((window, speaker))
                    shapes_clusters.append(shapes)
        embeddings = self.encoder.embed(sequences)
        table = np.zeros((len(starts), local, embeddings.shape[1]), np.float32)
        valid = np.zeros((len(starts), local), bool)
        trusted = np.zeros((len(starts), local), bool)
        for (window, speaker), embedding, shapes in zip(keys, embeddings, shapes_clusters):
            table[window, speaker], valid[window, speaker], trusted[window, speaker] = embedding, True, shapes
        return table, valid, trusted if trusted.sum() >= 2 else valid

    def _speaking(self, length: int, starts, pieces, overlaps, mels, tables, count: SpeakerCount) -> np.ndarray:
        """(frames, speakers) booleans for the count asked for, or, with an automatic count, for the
        most speakers (from count.minimum up) whose voices are all distinct (CountCriterion)."""
        table, valid, trusted = tables
        maximum = max(1, min(count.exact or count.maximum, int(trusted.sum())))
        minimum = max(1, min(count.exact or count.minimum, maximum))
        chosen = None
        for clusters in range(minimum, maximum + 1):
            labels, found = self._cluster(table, valid, trusted, overlaps, clusters)
            speaking = self._who_speaks(length, starts, pieces, labels, found)
            if chosen is not None and not self._distinct(mels, speaking, clusters, length):
                break
            chosen = speaking
        return chosen

    def _distinct(self, mels: np.ndarray, speaking: np.ndarray, clusters: int, length: int) -> bool:
        """Whether all `clusters` speakers have enough speech alone and distinct voices."""
        alone = np.zeros((len(mels), clusters), bool)
        for segment in self._segments(speaking, length):
            first, last = int(segment.start * _MELS_PER_SEC), int(np.ceil(segment.end * _MELS_PER_SEC))
            alone[first:last, int(segment.speaker.rsplit("_", 1)[1])] = True
        alone &= alone.sum(1, keepdims=True) == 1
        least = self.counting.min_speech_secs if clusters > 2 else 0.1  # 0.1 s: something to embed
        if alone.sum(0).min() < least * _MELS_PER_SEC:
            return False
        voices = self.encoder.embed([mels[alone[:, speaker]] for speaker in range(clusters)])
        return most_alike(voices) < (self.counting.first_alike if clusters == 2 else self.counting.alike)

    def _cluster(self, table, valid, trusted, overlaps, clusters: int) -> tuple[np.ndarray, int]:
        """The cluster of each (window, local speaker), and how many clusters there are."""
        points = table[trusted]
        labels = np.unique(spectral_clusters(points, clusters), return_inverse=True)[1]
        found = int(labels.max()) + 1
        centroids = normalise_rows(np.stack([points[labels == c].mean(0) for c in range(found)]))
        assigned = assign_within_windows(table @ centroids.T, valid, overlaps)
        for _ in range(self.refine_iterations):  # k-means that respects the within-window constraint
            centroids = normalise_rows(
                np.stack(
                    [
                        table[(assigned == c) & trusted].mean(0) if ((assigned == c) & trusted).any() else centroids[c]
                        for c in range(found)
                    ]
                )
            )
            refined = assign_within_windows(table @ centroids.T, valid, overlaps)
            if np.array_equal(refined, assigned):
                break
            assigned = refined
        return assigned, found

    def _who_speaks(self, length: int, starts, activity, labels, clusters: int) -> np.ndarray:
        """(frames, clusters) booleans on the call's frame grid."""
        frames, local = activity.shape[1:]
        average = WindowAverage(length, frames, clusters + 1)  # each cluster's activity, and the speaker count
        for window, start in enumerate(starts):
            values = np.zeros((frames, clusters + 1), np.float32)
            for speaker in range(local):
                cluster = labels[window, speaker]
                if cluster >= 0:
                    values[:, cluster] = np.maximum(values[:, cluster], activity[window, :, speaker])
            values[:, clusters] = activity[window].sum(-1)
            average.add(start, values)
        averaged = average.mean()
        cluster_activity = averaged[:, :clusters]
        speakers_now = np.minimum(np.round(averaged[:, clusters]).astype(int), clusters)
        ranking = np.argsort(-cluster_activity, axis=1)
        speaking = np.zeros_like(cluster_activity, bool)
        for rank in range(clusters):
            rows = speakers_now > rank
            speaking[rows, ranking[rows, rank]] = True
        return speaking & (cluster_activity > 0)

    @staticmethod
    def _segments(speaking: np.ndarray, length: int) -> list[SpeakerSegment]:
        segments = [SpeakerSegment(span.start, span.end, f"SPEAKER_{cluster:02d}")
                    for cluster in range(speaking.shape[1]) for span in frame_spans(speaking[:, cluster], length)]
        return sorted(segments, key=lambda segment: segment.start)
