"""Clustering speaker embeddings into speakers, never merging two speakers heard in one window."""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.optimize import linear_sum_assignment


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9)


def spectral_clusters(
    embeddings: np.ndarray, exact: int | None, minimum: int, maximum: int, keep_fraction: float = 0.3
) -> np.ndarray:
    """Spectral clustering on cosine affinity, rows pruned to their strongest `keep_fraction`
    (Park et al. 2019). The count is `exact`, or the largest eigengap within [minimum, maximum].
    Average- and centroid-linkage were tried: centroid linkage collapsed to one cluster."""
    count = len(embeddings)
    if count <= 1:
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
    eigenvalues, eigenvectors = np.linalg.eigh(laplacian)
    if exact is None:
        high = min(maximum, count - 1)
        low = max(1, min(minimum, high))
        gaps = np.diff(eigenvalues[: high + 1])  # gap after eigenvalue k-1 → k clusters
        exact = low + int(np.argmax(gaps[low - 1 : high]))
    clusters = max(1, min(exact, count))
    if clusters == 1:
        return np.zeros(count, int)
    spectral = normalise_rows(eigenvectors[:, :clusters])
    generator = np.random.default_rng(0)  # deterministic: the same call gives the same speakers
    best, best_inertia = None, np.inf
    for _ in range(5):
        centres, labels = kmeans2(spectral, clusters, minit="++", seed=generator)
        inertia = float(((spectral - centres[labels]) ** 2).sum())
        if inertia < best_inertia and len(np.unique(labels)) == clusters:
            best, best_inertia = labels, inertia
    return best if best is not None else labels


def assign_within_windows(similarity: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """similarity (windows, local speakers, clusters) → the cluster of each local speaker, the
    speakers of one window always in different clusters (Hungarian assignment); -1 where invalid."""
    windows, local, _ = similarity.shape
    labels = -np.ones((windows, local), int)
    for window in range(windows):
        speakers = np.where(valid[window])[0]
        if len(speakers):
            rows, columns = linear_sum_assignment(-similarity[window, speakers])
            labels[window, speakers[rows]] = columns
    return labels
