"""Time pyro_vae.metrics against straightforward loop implementations on the
same inputs, check that the values agree, and print times and speed-ups
measured side by side in one run.

The loop references below are written the way disentanglement_lib computes
the metrics (one sklearn call per code/factor pair, one argmin per vote,
...); they live here, never in the library.

    python benchmarks/metrics.py            # dlib sizes: 10000 train / 5000 test points
    python benchmarks/metrics.py --quick    # small sizes, a few seconds
"""

from __future__ import annotations

import argparse
import math
import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
import torch
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from scipy.stats import norm, pearsonr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from pyro_vae.metrics import dci, explicitness, mcc, mig, mig_sampled, modularity, sap
from pyro_vae.metrics.factor_vae import factor_vae_votes
from pyro_vae.metrics.mic import mic_tic

FACTOR_SIZES = (3, 6, 40, 32, 32)  # dSprites' factors (shape, scale, orientation, x, y)


# ----------------------------------------------------------------------------- loop references
def ref_discretize(codes, num_bins=20):
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        out[:, j] = np.digitize(codes[:, j], np.histogram(codes[:, j], num_bins)[1][:-1])
    return out


def ref_mutual_info(binned, factors):
    m = np.zeros((binned.shape[1], factors.shape[1]))
    for j in range(binned.shape[1]):
        for k in range(factors.shape[1]):
            m[j, k] = mutual_info_score(factors[:, k], binned[:, j])
    return m


def ref_mig(codes, factors):
    m = ref_mutual_info(ref_discretize(codes), factors)
    h = np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])
    s = np.sort(m, axis=0)[::-1]
    return float(np.mean((s[0] - s[1]) / h))


def ref_modularity(codes, factors):
    sq = ref_mutual_info(ref_discretize(codes), factors) ** 2
    mx = sq.max(1)
    mod = 1.0 - (sq.sum(1) - mx) / (mx * (sq.shape[1] - 1.0))
    mod[mx == 0] = 0.0
    return float(mod.mean())


def ref_explicitness(c_tr, f_tr, c_te, f_te):
    mean, std = c_tr.mean(0), c_tr.std(0)
    x_tr, x_te = (c_tr - mean) / std, (c_te - mean) / std
    tr, te = [], []
    for k in range(f_tr.shape[1]):
        clf = OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(x_tr, f_tr[:, k])
        mlb = MultiLabelBinarizer()
        tr.append(roc_auc_score(mlb.fit_transform(f_tr[:, k : k + 1]), clf.predict_proba(x_tr)))
        te.append(roc_auc_score(mlb.fit_transform(f_te[:, k : k + 1]), clf.predict_proba(x_te)))
    return float(np.mean(tr)), float(np.mean(te))


def ref_sap(c_tr, f_tr, c_te, f_te):
    s = np.zeros((c_tr.shape[1], f_tr.shape[1]))
    for j in range(c_tr.shape[1]):
        for k in range(f_tr.shape[1]):
            clf = LinearSVC(C=0.01, class_weight="balanced", dual=False, random_state=0)
            clf.fit(c_tr[:, [j]], f_tr[:, k])
            s[j, k] = np.mean(clf.predict(c_te[:, [j]]) == f_te[:, k])
    s = np.sort(s, axis=0)
    return float(np.mean(s[-1] - s[-2]))


def ref_dci(c_tr, f_tr, c_te, f_te):
    from sklearn.ensemble import GradientBoostingClassifier

    r = np.zeros((c_tr.shape[1], f_tr.shape[1]))
    for k in range(f_tr.shape[1]):
        model = GradientBoostingClassifier(random_state=0).fit(c_tr, f_tr[:, k])
        r[:, k] = np.abs(model.feature_importances_)
    per_code = 1.0 - scipy.stats.entropy(r.T + 1e-11, base=r.shape[1])
    d = np.sum(per_code * r.sum(1) / r.sum())
    per_factor = 1.0 - scipy.stats.entropy(r + 1e-11, base=r.shape[0])
    c = np.sum(per_factor * r.sum(0) / r.sum())
    return float(d), float(c)


def ref_factor_vae_votes(gv, local, labels, num_factors, active):
    votes = np.zeros((num_factors, len(gv)), dtype=np.int64)
    for v, k in zip(local, labels, strict=True):
        votes[k, np.argmin(v[active] / gv[active])] += 1
    return votes


def ref_mcc(codes, sources):
    c = np.zeros((codes.shape[1], sources.shape[1]))
    for j in range(codes.shape[1]):
        for k in range(sources.shape[1]):
            c[j, k] = pearsonr(codes[:, j], sources[:, k])[0]
    r, s = linear_sum_assignment(-np.abs(c))
    return float(np.abs(c[r, s]).mean())


def ref_sampled_mig(loc, scale, factors, z):
    n, d = loc.shape
    mi = np.zeros((d, factors.shape[1]))
    for m in range(n):
        logq = norm.logpdf(z[m][None, :], loc, scale)  # (n, d)
        marg = logsumexp(logq, axis=0) - math.log(n)
        for k in range(factors.shape[1]):
            same = factors[:, k] == factors[m, k]
            mi[:, k] += logsumexp(logq[same], axis=0) - math.log(same.sum()) - marg
    mi = np.clip(mi / n, 0, None)
    h = np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])
    s = np.sort(mi, axis=0)[::-1]
    return float(np.mean((s[0] - s[1]) / h))


# ----------------------------------------------------------------------------- harness
def best_time(fn, repeats):
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def make_data(n, rng, d=10):
    factors = np.stack([rng.integers(0, s, size=n) for s in FACTOR_SIZES], axis=1)
    cols = [
        np.tanh(factors[:, k] / s + 0.1 * rng.normal(size=n)) for k, s in enumerate(FACTOR_SIZES)
    ]
    cols += [rng.normal(size=n) for _ in range(d - len(cols))]
    return np.stack(cols, axis=1)[:, rng.permutation(d)], factors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    # single-threaded, like the loop references: timings compare algorithms,
    # not thread pools, and do not depend on what else runs on the cores
    torch.set_num_threads(1)
    with threadpool_limits(1):
        run(args)


def run(args: argparse.Namespace) -> None:
    n_tr, n_te = (2000, 1000) if args.quick else (10000, 5000)
    n_dci = 200 if args.quick else 1000
    n_sampled = 300 if args.quick else 2000
    n_mic = 500 if args.quick else 2000
    rng = np.random.default_rng(args.seed)
    c_tr, f_tr = make_data(n_tr, rng)
    c_te, f_te = make_data(n_te, rng)
    r = args.repeats
    rows = []

    def row(name, size, ref_fn, our_fn, ref_val, our_val, reps=r, tol=1e-10):
        t_ref, v_ref = best_time(ref_fn, reps)
        t_our, v_our = best_time(our_fn, reps)
        a, b = np.atleast_1d(ref_val(v_ref)), np.atleast_1d(our_val(v_our))
        diff = float(np.max(np.abs(a - b)))
        if diff > tol:
            raise AssertionError(f"{name}: values differ by {diff:.3g} > {tol:g}: {a} vs {b}")
        rows.append((name, size, t_ref, t_our, t_ref / t_our, diff))

    row(
        "mig (binned)",
        f"{n_tr}x10 codes",
        lambda: ref_mig(c_tr, f_tr),
        lambda: mig(c_tr, f_tr),
        lambda v: v,
        lambda v: v["mig"],
    )
    row(
        "modularity",
        f"{n_tr}x10 codes",
        lambda: ref_modularity(c_tr, f_tr),
        lambda: modularity(c_tr, f_tr),
        lambda v: v,
        lambda v: v["modularity"],
    )
    row(
        "explicitness",
        f"{n_tr}+{n_te}",
        lambda: ref_explicitness(c_tr, f_tr, c_te, f_te),
        lambda: explicitness(c_tr, f_tr, c_te, f_te),
        lambda v: v,
        lambda v: (v["explicitness_train"], v["explicitness_test"]),
        reps=1,
    )
    row(
        "sap",
        f"{n_tr}+{n_te}",
        lambda: ref_sap(c_tr, f_tr, c_te, f_te),
        lambda: sap(c_tr, f_tr, c_te, f_te),
        lambda v: v,
        lambda v: v["sap"],
        reps=1,
    )
    row(
        "dci (gbt)",
        f"{n_dci}+{n_dci // 2}",
        lambda: ref_dci(c_tr[:n_dci], f_tr[:n_dci], c_te[: n_dci // 2], f_te[: n_dci // 2]),
        lambda: dci(c_tr[:n_dci], f_tr[:n_dci], c_te[: n_dci // 2], f_te[: n_dci // 2]),
        lambda v: v,
        lambda v: (v["disentanglement"], v["completeness"]),
        reps=1,
    )
    # FactorVAE: the metric's own part, from per-vote batch variances
    gv = c_tr.var(0, ddof=1)
    local = rng.uniform(size=(n_tr, 10)) * gv
    labels = rng.integers(0, 5, size=n_tr)
    active = np.sqrt(gv) >= 0.05
    row(
        "factor-vae votes",
        f"{n_tr} votes",
        lambda: ref_factor_vae_votes(gv, local, labels, 5, active),
        lambda: factor_vae_votes(gv, local, labels, 5, active),
        lambda v: v.ravel(),
        lambda v: v[:, active].ravel(),
    )
    row(
        "mcc (pearson)",
        f"{n_tr}x10 codes",
        lambda: ref_mcc(c_tr, f_tr),
        lambda: mcc(c_tr, f_tr),
        lambda v: v,
        lambda v: v["mcc"],
    )
    loc, fs = c_tr[:n_sampled], f_tr[:n_sampled]
    scale = np.full_like(loc, 0.1)
    g = np.random.default_rng(1)
    z = loc + scale * g.standard_normal(loc.shape)
    row(
        "mig (sampled)",
        f"{n_sampled} points",
        lambda: ref_sampled_mig(loc, scale, fs, z),
        lambda: mig_sampled(loc, scale, fs, np.random.default_rng(1)),
        lambda v: v,
        lambda v: v["mig"],
        reps=1,
        tol=1e-9,
    )
    t_mic, _ = best_time(lambda: mic_tic(c_tr[:n_mic, 0], f_tr[:n_mic, 2]), 1)
    t_mic_c, _ = best_time(lambda: mic_tic(c_tr[:n_mic, 0], c_tr[:n_mic, 1]), 1)

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, "
        f"torch {torch.__version__}; one thread; best of {r} (1 for the sklearn-bound rows)"
    )
    print(f"{'metric':<18}{'size':<18}{'loop (s)':>10}{'ours (s)':>10}{'speed-up':>10}  max |diff|")
    for name, size, t_ref, t_our, ratio, diff in rows:
        print(f"{name:<18}{size:<18}{t_ref:>10.3f}{t_our:>10.3f}{ratio:>9.1f}x  {diff:.1e}")
    print(
        f"MIC_e/TIC_e (no reference: minepy does not build): {n_mic} points, "
        f"code vs 40-class factor {t_mic:.2f} s, code vs code {t_mic_c:.2f} s per pair"
    )


if __name__ == "__main__":
    main()
