#!/usr/bin/env python3
"""Regenerates reference_values.json: fixed input vectors and what scikit-learn and scipy
compute from them. tests/reference_values.rs holds prospector-eval's metrics against it.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install scikit-learn scipy
    /tmp/refvenv/bin/python crates/eval/tests/reference/make_reference.py

Written with scikit-learn 1.9.1 and scipy 1.17.1 (recorded in the output).
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.manifold import trustworthiness
from sklearn.metrics import confusion_matrix, fbeta_score, roc_auc_score, roc_curve

rng = np.random.default_rng(20240601)


def floats(a):
    return [float(v) for v in a]


def classification_cases():
    cases = []
    labels = rng.random(50) < 0.4
    cases.append(("continuous", labels, rng.normal(size=50) + labels * 1.0))
    labels = rng.random(60) < 0.5
    cases.append(("ties_one_decimal", labels, np.round(rng.normal(size=60) * 0.3 + labels * 0.4, 1)))
    cases.append(("all_equal", np.array([0, 1, 0, 1, 1, 0, 0, 0, 1, 0], bool), np.full(10, 0.7)))
    cases.append(("perfect", np.array([0, 0, 0, 1, 1], bool), np.array([0.1, 0.2, 0.3, 0.8, 0.9])))
    cases.append(("inverted", np.array([1, 1, 0, 0, 0], bool), np.array([0.1, 0.2, 0.3, 0.8, 0.9])))
    cases.append(("sklearn_doc", np.array([0, 0, 1, 1], bool), np.array([0.1, 0.4, 0.35, 0.8])))
    labels = rng.random(500) < 0.1
    cases.append(("heavy_ties_imbalanced", labels, rng.integers(0, 6, 500) + labels * rng.integers(0, 3, 500)))
    labels = rng.random(300) < 0.2
    cases.append(("negative_scores", labels, -np.abs(rng.normal(size=300)) - labels * 0.5))
    return cases


def best_threshold(labels, scores, beta):
    """Brute force: every distinct score as a threshold (flag score >= t); ties in F go
    to the lowest threshold."""
    best = None
    for t in np.unique(scores):  # ascending
        f = fbeta_score(labels, scores >= t, beta=beta, zero_division=0.0)
        if best is None or f > best[1]:
            best = (float(t), float(f))
    t = best[0]
    cm = confusion_matrix(labels, scores >= t, labels=[False, True])
    return {"beta": beta, "threshold": t, "fbeta": best[1], "confusion": cm.tolist()}


def workload(labels, scores, keep):
    fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=False)
    i = int(np.argmax(tpr >= keep - 1e-12))
    return {"keep": keep, "threshold": float(thr[i]), "typical_removed": float(1 - fpr[i]),
            "exotic_kept": float(tpr[i])}


def classification_entry(name, labels, scores):
    scores = scores.astype(float)
    fpr, tpr, thr = roc_curve(labels, scores)
    assert np.isinf(thr[0])
    mid = float(np.median(scores))
    return {
        "name": name,
        "labels": [bool(v) for v in labels],
        "scores": floats(scores),
        "fpr": floats(fpr),
        "tpr": floats(tpr),
        "thresholds_after_inf": floats(thr[1:]),
        "auc": float(roc_auc_score(labels, scores)),
        "best": [best_threshold(labels, scores, 1.0), best_threshold(labels, scores, 2.0),
                 best_threshold(labels, scores, 0.5)],
        "confusion_at_median": {"threshold": mid,
                                "matrix": confusion_matrix(labels, scores >= mid, labels=[False, True]).tolist()},
        "workload": [workload(labels, scores, 0.95), workload(labels, scores, 0.8)],
    }


def mean_roc_entry(cases):
    grid = np.linspace(0, 1, 101)
    curves, tprs = [], []
    for _, labels, scores in cases:
        fpr, tpr, _ = roc_curve(labels, scores.astype(float))
        curves.append({"fpr": floats(fpr), "tpr": floats(tpr)})
        tprs.append(np.interp(grid, fpr, tpr))
    tprs = np.array(tprs)
    return {"grid_points": 101, "curves": curves, "mean_tpr": floats(tprs.mean(axis=0)),
            "std_tpr": floats(tprs.std(axis=0))}


def rank_test_entries(raw, test, method):
    out = []
    for name, x, y in raw:
        for alt in ["two-sided", "less", "greater"]:
            r = test(x, y, alternative=alt)
            out.append({"name": name, "x": floats(x), "y": floats(y), "alternative": alt,
                        "statistic": float(r.statistic), "pvalue": float(r.pvalue),
                        "method": method(x, y)})
    return out


def mwu_method(x, y):
    ties = len(np.unique(np.r_[x, y])) < len(x) + len(y)
    return "asymptotic" if (len(x) > 8 and len(y) > 8) or ties else "exact"


def mann_whitney_cases():
    raw = [
        ("exact_5_7", rng.normal(size=5), rng.normal(size=7) + 0.8),
        ("exact_3_20", rng.normal(size=3) + 1.0, rng.normal(size=20)),
        ("exact_8_30", rng.normal(size=8) + 0.3, rng.normal(size=30)),
        ("asymptotic_20_25", rng.normal(size=20), rng.normal(size=25) + 0.5),
        ("asymptotic_ties", np.round(rng.normal(size=15), 1), np.round(rng.normal(size=12) + 0.3, 1)),
        ("small_with_ties", np.array([1.0, 2.0, 2.0, 3.0, 5.0]), np.array([2.0, 4.0, 4.0, 6.0, 7.0, 8.0])),
        ("all_equal", np.full(6, 0.5), np.full(6, 0.5)),
        ("auc_like_35_35", 0.82 + 0.05 * rng.normal(size=35), 0.87 + 0.04 * rng.normal(size=35)),
    ]
    return rank_test_entries(raw, stats.mannwhitneyu, mwu_method)


def wilcoxon_method(d):
    n = len(d)
    nz = d[d != 0]
    ties = len(np.unique(np.abs(nz))) < len(nz)
    if n > 50:
        return "asymptotic"
    if not (ties or len(nz) < n):
        return "exact"
    return "permutation" if n <= 13 else "asymptotic"


def wilcoxon_cases():
    raw = [
        ("exact_10", rng.normal(size=10) + 0.5, rng.normal(size=10)),
        ("exact_35", 0.85 + 0.04 * rng.normal(size=35), 0.84 + 0.04 * rng.normal(size=35)),
        ("asymptotic_60", rng.normal(size=60) + 0.2, rng.normal(size=60)),
        ("permutation_zeros_ties", np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]),
         np.array([0.5, 2.0, 1.0, 5.0, 4.5, 3.0, 7.0, 6.5, 9.5, 7.0])),
        ("asymptotic_ties_30", np.round(rng.normal(size=30), 1), np.round(rng.normal(size=30) + 0.2, 1)),
        ("asymptotic_zeros_20", np.r_[np.zeros(3), rng.normal(size=17)], np.r_[np.zeros(3), rng.normal(size=17) - 0.4]),
    ]
    return rank_test_entries(raw, stats.wilcoxon, lambda x, y: wilcoxon_method(x - y))


def trustworthiness_cases():
    high = rng.normal(size=(40, 6))
    out = []
    for name, low in [("random", rng.normal(size=(40, 2))), ("projection", high[:, :2] + 0.1 * rng.normal(size=(40, 2)))]:
        for k in [3, 7]:
            out.append({"name": name, "high": high.tolist(), "low": low.tolist(), "k": k,
                        "trustworthiness": float(trustworthiness(high, low, n_neighbors=k))})
    return out


def quartile_cases():
    out = []
    for values in [rng.normal(size=35), np.r_[rng.normal(size=20), 9.0, -7.0], np.array([0.5])]:
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        iqr = q3 - q1
        inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
        out.append({"values": floats(values), "q1": float(q1), "median": float(median),
                    "q3": float(q3), "low_whisker": float(inside.min()),
                    "high_whisker": float(inside.max()),
                    "outliers": len(values) - len(inside)})
    return out


def main():
    cases = classification_cases()
    data = {
        "generated_by": "crates/eval/tests/reference/make_reference.py",
        "versions": {"scikit-learn": sklearn.__version__, "scipy": scipy.__version__,
                     "numpy": np.__version__},
        "classification": [classification_entry(*c) for c in cases],
        "mean_roc": mean_roc_entry([c for c in cases if c[0] != "all_equal"]),
        "mann_whitney": mann_whitney_cases(),
        "wilcoxon": wilcoxon_cases(),
        "trustworthiness": trustworthiness_cases(),
        "quartiles": quartile_cases(),
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_values.json")
    with open(out, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
