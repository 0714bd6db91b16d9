"""Clustering speaker embeddings into speakers, never merging two speakers heard at the same time."""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9)


def spectral_clusters(embeddings: np.ndarray, clusters: int, keep_fraction: float = 0.3) -> np.ndarray:
    """`clusters` clusters by spectral clustering on cosine affinity, rows pruned to their strongest
    `keep_fraction` (Park et al. 2019). Average- and centroid-linkage were tried: centroid linkage
    collapsed to one cluster."""
    count = len(embeddings)
    clusters = max(1, min(clusters, count))
    if clusters == 1:
        return np.zeros(count, int)
    affinity = embeddings @ embeddings.T
    keep = max(2, int(np.ceil(keep_fraction * count)))
    strongest = np.argsort(-affinity, axis=1)[:, :keep]
    pruned = np.zeros_like(affinity)
    np.put_along_axis(pruned, strongest, np.take_along_axis(affinity, strongest, 1), 1)
    affinity = np.maximum(0, 0.5 * (pruned + pruned.T))
    np.fill_diagonal(affinity, 0)
    inverse_root = 1 / np.sqrt(affinity.sum(1) + 1e-9)
    laplacian = np.eye(count) - inverse_root[:, None] * affinity * inverse_root[None, :]
    _, eigenvectors = np.linalg.eigh(laplacian)
    spectral = normalise_rows(eigenvectors[:, :clusters])
    generator = np.random.default_rng(0)  # deterministic: the same call gives the same speakers
    best, best_inertia = None, np.inf
    for _ in range(5):
        centres, labels = kmeans2(spectral, clusters, minit="++", seed=generator)
        inertia = float(((spectral - centres[labels]) ** 2).sum())
        if inertia < best_inertia and len(np.unique(labels)) == clusters:
            best, best_inertia = labels, inertia
    return best if best is not None else labels


def split_at_pauses(activity: np.ndarray, pause_frames: int, min_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut each local speaker's activity (windows, frames, local speakers) at pauses of at least
    `pause_frames`: the segmentation model often keeps one local speaker across a pause after which
    another voice speaks, and one embedding of both voices fits neither. A piece active for fewer
    than `min_frames` stays with the piece before it (or after, if first): too short to embed.

    Returns the pieces as (windows, frames, pieces) activity and which pieces of a window overlap in
    time (windows, pieces, pieces): those are different speakers."""
    windows, frames, _ = activity.shape
    pieces = [_pieces_of_window(activity[window], pause_frames, min_frames) for window in range(windows)]
    width = max(1, max(len(found) for found in pieces))
    units = np.zeros((windows, frames, width), activity.dtype)
    for window, found in enumerate(pieces):
        for index, piece in enumerate(found):
            units[window, :, index] = piece
    active = units > 0
    overlaps = np.einsum("wfi,wfj->wij", active, active)
    return units, overlaps & ~np.eye(width, dtype=bool)[None]


def _pieces_of_window(activity: np.ndarray, pause_frames: int, min_frames: int) -> list[np.ndarray]:
    pieces = []
    for speaker in range(activity.shape[1]):
        active = np.flatnonzero(activity[:, speaker] > 0)
        if not len(active):
            continue
        cuts = np.flatnonzero(np.diff(active) > pause_frames) + 1
        merged: list[np.ndarray] = []
        for group in np.split(active, cuts):  # short pieces join their neighbour
            if merged and (len(group) < min_frames or len(merged[-1]) < min_frames):
                merged[-1] = np.concatenate([merged[-1], group])
            else:
                merged.append(group)
        for group in merged:
            piece = np.zeros(activity.shape[0], activity.dtype)
            piece[group] = activity[group, speaker]
            pieces.append(piece)
    return pieces


def assign_within_windows(similarity: np.ndarray, valid: np.ndarray, conflicts: np.ndarray | None = None) -> np.ndarray:
    """similarity (windows, local speakers, clusters) → the cluster of each local speaker, -1 where
    invalid. Speakers of one window that conflict (conflicts[window, i, j]; all of them when None)
    always get different clusters: a Hungarian assignment per group of conflicting speakers."""
    windows, local, _ = similarity.shape
    labels = -np.ones((windows, local), int)
    for window in range(windows):
        speakers = np.where(valid[window])[0]
        if not len(speakers):
            continue
        if conflicts is None:
            groups = np.zeros(len(speakers), int)
        else:
            groups = connected_components(conflicts[window][np.ix_(speakers, speakers)], directed=False)[1]
        for group in np.unique(groups):
            members = speakers[groups == group]
            rows, columns = linear_sum_assignment(-similarity[window, members])
            labels[window, members[rows]] = columns
    return labels


def most_alike(voices: np.ndarray) -> float:
    """The highest cosine similarity between two of `voices` (rows, L2-normalised); -1 for one voice."""
    if len(voices) < 2:
        return -1.0
    similarity = voices @ voices.T
    np.fill_diagonal(similarity, -1.0)
    return float(similarity.max())
