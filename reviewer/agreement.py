"""Human-human agreement on the overall preference: pairwise Cohen's kappa.

Pure functions over a labels table (one latest label per pair and annotator). The full set of
agreement statistics (MT-Bench protocol, Fleiss, Krippendorff, AC1, bootstrap CIs) builds on this.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd
from sklearn.metrics import cohen_kappa_score


def pairwise_kappa(labels: pd.DataFrame, min_shared: int = 10) -> pd.DataFrame:
    """Cohen's kappa and percent agreement for every annotator pair with enough shared pairs.

    Args:
        labels: columns pair_id, annotator_id, preference (latest label per pair and annotator).
        min_shared: pairs of annotators with fewer shared items are left out.
    Returns:
        One row per annotator pair: annotator_a, annotator_b, shared, agreement, kappa
        (NaN when kappa is undefined, e.g. both gave one same label throughout).
    """
    wide = labels.pivot_table(
        index="pair_id", columns="annotator_id", values="preference", aggfunc="last"
    )
    rows = []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        if len(both) < min_shared:
            continue
        agreement = float((both[a] == both[b]).mean())
        kappa = _kappa(both[a], both[b])
        rows.append(
            {
                "annotator_a": a,
                "annotator_b": b,
                "shared": len(both),
                "agreement": agreement,
                "kappa": kappa,
            }
        )
    return pd.DataFrame(
        rows, columns=["annotator_a", "annotator_b", "shared", "agreement", "kappa"]
    )


def _kappa(a: pd.Series, b: pd.Series) -> float:
    # sklearn returns NaN (with a warning) when expected agreement is 1; say so explicitly.
    if a.nunique() == 1 and b.nunique() == 1:
        return math.nan
    return float(cohen_kappa_score(a, b))
