"""Comparing a learned weighted graph with the true one.

Adjacency convention (as :class:`~pyro_vae.priors.scm.SCMPrior` and
:attr:`pyro_vae.data.pendulum.Pendulum.causal_graph`): ``G[j, i] != 0`` is an
edge ``j -> i``.

The structural Hamming distance (Tsamardinos, Brown & Aliferis 2006, "The
max-min hill-climbing Bayesian network structure learning algorithm", Sec.
6.2; as computed by NOTEARS' ``count_accuracy``) counts the edge insertions,
deletions and reversals that turn the estimated graph into the true one; a
reversed edge counts once (``reversal_cost=2`` counts it as a deletion plus an
insertion, as the ``cdt`` package does by default).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["threshold_graph", "structural_hamming_distance", "graph_metrics"]


def _as_square(name: str, graph) -> np.ndarray:
    if torch.is_tensor(graph):
        graph = graph.detach().cpu().numpy()
    graph = np.asarray(graph, dtype=np.float64)
    if graph.ndim != 2 or graph.shape[0] != graph.shape[1]:
        raise ValueError(f"{name} must be a square adjacency matrix, got shape {graph.shape}")
    return graph


def threshold_graph(weights, threshold: float = 0.3) -> np.ndarray:
    """Binary adjacency ``|weights| > threshold`` with an empty diagonal.

    :param weights: ``(n, n)`` weighted adjacency matrix (array or tensor).
    :param float threshold: edges with absolute weight above it are kept
        (CausalVAE's official code prunes at 0.3).
    :returns: ``(n, n)`` int64 array of 0/1.
    """
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    w = _as_square("weights", weights)
    edges = (np.abs(w) > threshold).astype(np.int64)
    np.fill_diagonal(edges, 0)
    return edges


def structural_hamming_distance(estimated, true, reversal_cost: int = 1) -> int:
    """SHD between two binary directed graphs.

    Each unordered pair of nodes contributes 0 when the two graphs agree on
    it, ``reversal_cost`` when both have a single edge between the pair in
    opposite directions, and otherwise 1 (a missing or extra edge; a pair
    with edges both ways in one graph counts as one error against any other
    configuration).

    :param estimated: ``(n, n)`` 0/1 adjacency (nonzero = edge).
    :param true: ``(n, n)`` 0/1 adjacency.
    :param int reversal_cost: 1 (default) or 2.
    :returns: the number of errors.
    """
    if reversal_cost not in (1, 2):
        raise ValueError(f"reversal_cost must be 1 or 2, got {reversal_cost}")
    est = _as_square("estimated", estimated) != 0
    tru = _as_square("true", true) != 0
    if est.shape != tru.shape:
        raise ValueError(f"graphs of different sizes: {est.shape} and {tru.shape}")
    n = est.shape[0]
    errors = 0
    for a in range(n):
        for b in range(a + 1, n):
            e, t = (est[a, b], est[b, a]), (tru[a, b], tru[b, a])
            if e == t:
                continue
            reversed_edge = sum(e) == 1 and sum(t) == 1
            errors += reversal_cost if reversed_edge else 1
    return errors


def graph_metrics(weights, true, threshold: float = 0.3, reversal_cost: int = 1) -> dict:
    """Threshold a learned weighted graph and compare it with the true graph.

    :param weights: ``(n, n)`` learned adjacency (``A[j, i]``: edge ``j -> i``).
    :param true: ``(n, n)`` true 0/1 adjacency.
    :returns: ``{"shd", "true_positives", "false_positives", "reversed",
        "missing", "num_edges", "num_true_edges", "threshold", "estimated"}``
        -- ``estimated`` is the thresholded graph as nested lists; reversed
        edges are not true positives.
    """
    est = threshold_graph(weights, threshold)
    tru = (_as_square("true", true) != 0).astype(np.int64)
    if est.shape != tru.shape:
        raise ValueError(f"graphs of different sizes: {est.shape} and {tru.shape}")
    reversed_ = int(((est == 1) & (tru.T == 1) & (tru == 0)).sum())
    true_pos = int(((est == 1) & (tru == 1)).sum())
    return {
        "shd": structural_hamming_distance(est, tru, reversal_cost),
        "true_positives": true_pos,
        "false_positives": int(est.sum()) - true_pos - reversed_,
        "reversed": reversed_,
        "missing": int(((tru == 1) & (est == 0) & (est.T == 0)).sum()),
        "num_edges": int(est.sum()),
        "num_true_edges": int(tru.sum()),
        "threshold": float(threshold),
        "estimated": est.tolist(),
    }
