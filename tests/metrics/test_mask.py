import numpy as np
import pytest

from pyro_vae.metrics import MetricWarning, mask_scores
from pyro_vae.metrics.mask import match_latents

TRUE = np.array(
    [
        [1, 0, 0],
        [0, 1, 1],
        [0, 0, 1],
        [1, 0, 1],
    ],
    dtype=bool,
)


def _factors(n=500, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3))


def test_identity_matching_perfect_mask():
    f = _factors()
    scores = mask_scores(TRUE, TRUE, codes=f, factors=f)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)
    np.testing.assert_array_equal(scores.matching, [0, 1, 2])


def test_permuted_and_sign_flipped_codes_are_matched():
    f = _factors()
    perm = [2, 0, 1]  # code j is factor perm[j], with signs flipped
    codes = -f[:, perm] * np.array([1.0, 3.0, 0.5]) + 0.01 * _factors(seed=1)
    learned = TRUE[:, perm]  # the same mask, in the codes' order
    scores = mask_scores(learned, TRUE, codes=codes, factors=f)
    np.testing.assert_array_equal(scores.matching, [1, 2, 0])
    assert scores.f1 == 1.0


def test_counts_by_hand():
    # learned mask over matched latents (identity matching): 1 TP lost, 2 FPs added
    learned = TRUE.copy()
    learned[1, 1] = False  # a false negative
    learned[0, 1] = True  # a false positive
    learned[2, 0] = True  # a false positive
    scores = mask_scores(learned, TRUE, matching=np.array([0, 1, 2]))
    tp, fp, fn = 5, 2, 1  # TRUE has 6 ones
    assert scores.precision == pytest.approx(tp / (tp + fp))
    assert scores.recall == pytest.approx(tp / (tp + fn))
    p, r = tp / (tp + fp), tp / (tp + fn)
    assert scores.f1 == pytest.approx(2 * p * r / (p + r))


def test_extra_and_missing_learned_latents():
    extra = np.concatenate([TRUE, np.array([[1], [0], [0], [1]], dtype=bool)], axis=1)
    scores = mask_scores(extra, TRUE, matching=np.array([0, 1, 2]))
    assert scores.recall == 1.0 and scores.precision == pytest.approx(6 / 8)
    fewer = TRUE[:, :2]
    scores = mask_scores(fewer, TRUE, matching=np.array([0, 1, -1]))
    assert scores.precision == 1.0 and scores.recall == pytest.approx(3 / 6)


def test_empty_masks_score_zero():
    empty = np.zeros_like(TRUE)
    scores = mask_scores(empty, TRUE, matching=np.array([0, 1, 2]))
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)


def test_matching_is_the_mcc_matching():
    f = _factors()
    codes = np.stack([f[:, 1], np.ones(len(f)), -2 * f[:, 0]], axis=1)
    with pytest.warns(MetricWarning, match="constant"):  # code 1 is constant
        np.testing.assert_array_equal(match_latents(codes, f), [2, 0, 1])
    with pytest.warns(MetricWarning, match="constant"):  # factor 2 is constant: unmatched
        matching = match_latents(f[:, :2], np.stack([f[:, 1], f[:, 0], np.ones(len(f))], 1))
    np.testing.assert_array_equal(matching, [1, 0, -1])


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="one row per action"):
        mask_scores(TRUE[:2], TRUE, matching=np.arange(3))
    with pytest.raises(ValueError, match="codes and factors"):
        mask_scores(TRUE, TRUE)
    with pytest.raises(ValueError, match="distinct"):
        mask_scores(TRUE, TRUE, matching=np.array([0, 0, 1]))
    with pytest.raises(ValueError):
        match_latents(np.zeros((3, 2)), np.zeros((4, 2)))
