"""Structural Hamming distance and thresholding on hand-built graphs."""

import numpy as np
import pytest
import torch

from pyro_vae.data.pendulum import Pendulum
from pyro_vae.metrics.graph import graph_metrics, structural_hamming_distance, threshold_graph

TRUE = Pendulum.causal_graph  # 0 -> 2, 0 -> 3, 1 -> 2, 1 -> 3


def _graph(edges, n=4):
    g = np.zeros((n, n), dtype=np.int64)
    for a, b in edges:
        g[a, b] = 1
    return g


def test_shd_counts_missing_extra_and_reversed_edges():
    assert structural_hamming_distance(TRUE, TRUE) == 0
    assert structural_hamming_distance(np.zeros((4, 4)), TRUE) == 4
    missing_one = _graph([(0, 2), (0, 3), (1, 2)])
    assert structural_hamming_distance(missing_one, TRUE) == 1
    extra_one = _graph([(0, 2), (0, 3), (1, 2), (1, 3), (0, 1)])
    assert structural_hamming_distance(extra_one, TRUE) == 1
    reversed_one = _graph([(2, 0), (0, 3), (1, 2), (1, 3)])
    assert structural_hamming_distance(reversed_one, TRUE) == 1
    assert structural_hamming_distance(reversed_one, TRUE, reversal_cost=2) == 2
    assert structural_hamming_distance(TRUE.T, TRUE) == 4  # every edge reversed
    both_ways = _graph([(0, 2), (2, 0), (0, 3), (1, 2), (1, 3)])
    assert structural_hamming_distance(both_ways, TRUE) == 1
    # symmetric in its arguments
    assert structural_hamming_distance(TRUE, extra_one) == 1


def test_threshold_graph_uses_absolute_weights_and_drops_self_loops():
    w = torch.tensor([[0.9, 0.2, -0.5], [0.31, 0.0, 0.0], [0.0, -0.29, 0.0]])
    assert threshold_graph(w, 0.3).tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 0]]
    assert threshold_graph(w, 0.0).sum() == 4  # the 0.9 self-loop is dropped
    with pytest.raises(ValueError, match="threshold"):
        threshold_graph(w, -1.0)
    with pytest.raises(ValueError, match="square"):
        threshold_graph(np.zeros((2, 3)))


def test_graph_metrics_on_a_learned_pendulum_graph():
    learned = np.array(
        [
            [0.0, 0.05, 0.8, 0.4],  # 0 -> 2, 0 -> 3 found
            [0.0, 0.0, 0.1, 0.0],  # 1 -> 2 and 1 -> 3 missed
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.6, 0.0, 0.0],  # 3 -> 1: the true 1 -> 3 reversed
        ]
    )
    m = graph_metrics(learned, TRUE, threshold=0.3)
    assert m["shd"] == 2  # 1 -> 2 missing, 1 -> 3 reversed
    assert m["true_positives"] == 2 and m["reversed"] == 1
    assert m["missing"] == 1 and m["false_positives"] == 0
    assert m["num_edges"] == 3 and m["num_true_edges"] == 4
    assert m["estimated"] == threshold_graph(learned, 0.3).tolist()
    with pytest.raises(ValueError, match="sizes"):
        structural_hamming_distance(np.zeros((3, 3)), TRUE)
