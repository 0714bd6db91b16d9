"""A second pass over a diarization: re-decide each single-speaker stretch with this call's own voices.

The GE2E embedding is generic; on two similar 8 kHz voices it puts whole utterances on the wrong
speaker (about 12% confusion on the demo call mixed to mono). A call's two parties also differ in
what a generic embedding is trained to ignore: handset versus headset, line noise, level. Gaussian
mixtures over MFCCs (with energy), trained on the stretches where the first pass is confident,
pick that up. Each stretch of one speaker then goes to the mixture that explains it best; overlapped
speech and the boundaries of the first pass are kept. In the manner of classic GMM resegmentation
(e.g. LIUM, VBx's resegmentation step). Short calls are left alone: a mixture needs data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from callscope.speakers.assign import SpeakerSegment

_FRAMES_PER_SEC = 100  # mel frames are 10 ms apart, frame i centred at i * 10 ms


@dataclass(frozen=True)
class ResegmentationOptions:
    components: int = 8  # Gaussians per speaker (diagonal covariances)
    coefficients: int = 20  # MFCCs, c0 (energy) included: level differs between the parties
    min_train_secs: float = 30.0  # confident speech each speaker needs, or the pass is skipped
    edge_secs: float = 0.2  # left out of training on both sides of every stretch: boundaries are unsure
    iterations: int = 2


def mfcc(mels: np.ndarray, coefficients: int) -> np.ndarray:
    """MFCCs from a mel power spectrogram (frames, bands)."""
    return scipy.fft.dct(np.log(mels + 1e-8), type=2, norm="ortho", axis=1)[:, :coefficients].astype(np.float32)


def resegment(
    mels: np.ndarray, segments: list[SpeakerSegment], options: ResegmentationOptions = ResegmentationOptions()
) -> list[SpeakerSegment]:
    """`segments` with every single-speaker stretch re-assigned; unchanged if a speaker has too little speech."""
    labels = sorted({segment.speaker for segment in segments})
    if len(labels) < 2:
        return segments
    features = mfcc(mels, options.coefficients)
    for _ in range(options.iterations):
        activity = _activity(segments, labels, len(features))
        single = activity.sum(1) == 1
        speaker = activity.argmax(1)
        models = _train(features, single, speaker, len(labels), options)
        if models is None:
            return segments
        likelihood = np.stack([model.score_samples(features) for model in models], axis=1)
        segments = _relabel(activity, single, speaker, likelihood, labels)
    return segments


def _activity(segments: list[SpeakerSegment], labels: list[str], frames: int) -> np.ndarray:
    activity = np.zeros((frames, len(labels)), bool)
    for segment in segments:
        first = int(segment.start * _FRAMES_PER_SEC)
        last = min(frames, int(np.ceil(segment.end * _FRAMES_PER_SEC)))
        activity[first:last, labels.index(segment.speaker)] = True
    return activity


def _train(features, single, speaker, speakers: int, options: ResegmentationOptions):
    from sklearn.mixture import GaussianMixture

    edge = int(options.edge_secs * _FRAMES_PER_SEC)
    kernel = np.ones(2 * edge + 1, int)
    models = []
    for index in range(speakers):
        mask = single & (speaker == index)
        inner = np.convolve(mask.astype(int), kernel, mode="same") == len(kernel)  # frames far from an edge
        if inner.sum() < options.min_train_secs * _FRAMES_PER_SEC:
            return None
        model = GaussianMixture(options.components, covariance_type="diag", max_iter=50, random_state=0)
        models.append(model.fit(features[inner]))
    return models


def _relabel(activity, single, speaker, likelihood, labels: list[str]) -> list[SpeakerSegment]:
    segments = []
    # Stretches: runs of frames with exactly one speaker, the same one.
    run_of = np.where(single, speaker, -1)
    edges = np.flatnonzero(np.diff(np.concatenate([[-2], run_of, [-2]])))
    for first, last in zip(edges[:-1], edges[1:]):
        if run_of[first] >= 0:
            best = int(np.argmax(likelihood[first:last].sum(0)))
            segments.append(_segment(first, last, labels[best]))
    overlapped = activity.sum(1) > 1
    for index, label in enumerate(labels):
        mask = overlapped & activity[:, index]
        changes = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
        for first, last in zip(np.flatnonzero(changes == 1), np.flatnonzero(changes == -1)):
            segments.append(_segment(first, last, label))
    return _merge_touching(sorted(segments, key=lambda segment: (segment.start, segment.speaker)))


def _segment(first: int, last: int, label: str) -> SpeakerSegment:
    return SpeakerSegment(round(first / _FRAMES_PER_SEC, 3), round(last / _FRAMES_PER_SEC, 3), label)


def _merge_touching(segments: list[SpeakerSegment]) -> list[SpeakerSegment]:
    """One segment where relabelling left a speaker's stretches end to end."""
    merged: list[SpeakerSegment] = []
    last_of: dict[str, int] = {}
    for segment in segments:
        index = last_of.get(segment.speaker)
        if index is not None and merged[index].end >= segment.start:
            merged[index] = SpeakerSegment(merged[index].start, max(merged[index].end, segment.end), segment.speaker)
        else:
            last_of[segment.speaker] = len(merged)
            merged.append(segment)
    return merged
