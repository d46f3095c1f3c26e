"""How many significant digits the /stats tests share with independent implementations, on
data sets that packages ship (sklearn's iris and diabetes, statsmodels' fair).

References: statsmodels' ``anova_oneway(use_var="unequal")`` (Welch), ``pairwise_tukeyhsd``
(Tukey HSD), ``DescrStatsW`` (one-sample and paired t); pandas' ``DataFrame.corr`` (Pearson,
Spearman, Kendall coefficients); scipy.stats for the chi-square, Fisher and t intervals; and
Games-Howell written out here from its definition with ``scipy.stats.studentized_range``.
scripts/numerics_report.py prints the table into docs/NUMERICS.md; tests/analysis/
test_agreement.py holds every cell to its floor.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

CAP = 15.0


def digits(ours: float, ref: float) -> float:
    """-log10 of the relative difference, capped at 15 (also when the two are equal)."""
    if ours == ref:
        return CAP
    scale = abs(ref) if ref != 0 else 1.0
    return min(CAP, -math.log10(abs(ours - ref) / scale))


def _worst(pairs: list[tuple[float, float]]) -> float:
    return min(digits(a, b) for a, b in pairs)


def _iris() -> pd.DataFrame:
    import numpy as np
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = np.asarray(data.target_names)[data.target]
    out: pd.DataFrame = frame
    return out


def _fair() -> pd.DataFrame:
    import numpy as np
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    out: pd.DataFrame = frame.assign(
        occupation=frame["occupation"].astype(int).astype(str),
        religious=frame["religious"].astype(int).astype(str),
        affair=np.where(frame["affairs"] > 0, "yes", "no"),
    )
    return out


def _welch(frame: pd.DataFrame, group: str, value: str) -> dict[str, float]:
    from statsmodels.stats.oneway import anova_oneway

    from statbot.analysis.stats.tests import choose_and_run

    res = choose_and_run(frame, value, group, method="means")
    ref = anova_oneway(frame[value], frame[group], use_var="unequal")
    if res.test != "Welch's ANOVA":
        raise ValueError(f"expected Welch's ANOVA on {value} ~ {group}, got {res.test}")
    return {
        "F": digits(res.statistic, float(ref.statistic)),
        "df2": digits(res.df2 or math.nan, float(ref.df[1])),
        "p": digits(res.p_value, float(ref.pvalue)),
    }


def _tukey(frame: pd.DataFrame, group: str, value: str) -> dict[str, float]:
    from statsmodels.stats.multicomp import pairwise_tukeyhsd

    from statbot.analysis.stats.posthoc import tukey_hsd

    ours = tukey_hsd({str(g): s.to_numpy(float) for g, s in frame.groupby(group)[value]})
    ref = pairwise_tukeyhsd(frame[value], frame[group])
    rows = list(zip(ours.pairs, ref.meandiffs, ref.pvalues, ref.confint, strict=True))
    return {
        "difference": _worst([(p.difference, -d) for p, d, _, _ in rows]),
        "adjusted p": _worst([(p.p_adjusted, float(q)) for p, _, q, _ in rows]),
        "CI": _worst([(p.ci_low, -ci[1]) for p, _, _, ci in rows]),
    }


def _games_howell(frame: pd.DataFrame, group: str, value: str) -> dict[str, float]:
    from scipy import stats

    from statbot.analysis.stats.posthoc import games_howell

    samples = {str(g): s.to_numpy(float) for g, s in frame.groupby(group)[value]}
    ours = games_howell(samples)
    k = len(samples)
    p_pairs, ci_pairs = [], []
    for pair, (a, b) in zip(ours.pairs, itertools.combinations(samples.values(), 2), strict=True):
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        se = math.sqrt((va + vb) / 2)
        q = abs(a.mean() - b.mean()) / se
        p_pairs.append((pair.p_adjusted, float(stats.studentized_range.sf(q, k, df))))
        half = float(stats.studentized_range.ppf(0.95, k, df)) * se
        ci_pairs.append((pair.ci_high - pair.difference, half))
    return {"adjusted p": _worst(p_pairs), "CI half-width": _worst(ci_pairs)}


def _paired_and_one_sample(frame: pd.DataFrame) -> dict[str, float]:
    from statsmodels.stats.weightstats import DescrStatsW

    from statbot.analysis.stats.tests import choose_and_run

    one = choose_and_run(frame, "sepal_length", mu=5.8, method="means")
    ref1 = DescrStatsW(frame["sepal_length"].to_numpy()).ttest_mean(5.8)
    paired = choose_and_run(frame, "sepal_length", "petal_length", paired=True, method="means")
    diff = (frame["sepal_length"] - frame["petal_length"]).to_numpy()
    ref2 = DescrStatsW(diff).ttest_mean(0.0)
    return {
        "one-sample t": digits(one.statistic, float(ref1[0])),
        "one-sample p": digits(one.p_value, float(ref1[1])),
        "paired t": digits(paired.statistic, float(ref2[0])),
        "paired p": digits(paired.p_value, float(ref2[1])),
    }


def _crosstab(frame: pd.DataFrame) -> dict[str, float]:
    import pandas as pd
    from scipy import stats

    from statbot.analysis.stats.tests import choose_and_run

    res = choose_and_run(frame, "religious", "affair")
    counts = pd.crosstab(frame["religious"], frame["affair"]).to_numpy()
    ref = stats.chi2_contingency(counts, correction=False)
    v = stats.contingency.association(counts, method="cramer")
    return {
        "chi-square": digits(res.statistic, float(ref.statistic)),
        "p": digits(res.p_value, float(ref.pvalue)),
        "Cramér's V": digits(res.effect.value if res.effect else math.nan, float(v)),
    }


def _correlations() -> dict[str, float]:
    from sklearn.datasets import load_diabetes

    from statbot.analysis.stats.correlations import correlate_all

    frame = load_diabetes(as_frame=True, scaled=False).frame
    table = correlate_all(frame)
    out = {}
    for method in ("pearson", "spearman", "kendall"):
        ref = frame[table.columns].corr(method=method)
        out[method] = _worst([(p.values[method][0], float(ref.loc[p.a, p.b])) for p in table.pairs])
    return out


def _group_ci(frame: pd.DataFrame) -> dict[str, float]:
    from scipy import stats

    from statbot.analysis.stats.hypothesis import summary

    pairs = []
    for _, s in frame.groupby("species")["sepal_width"]:
        ours = summary(s.to_numpy(float))
        low, high = stats.t.interval(0.95, s.size - 1, s.mean(), stats.sem(s))
        pairs += [(ours["ci_low"], float(low)), (ours["ci_high"], float(high))]
    return {"95% CI of the mean": _worst(pairs)}


def report() -> list[tuple[str, str, str, dict[str, float]]]:
    """(what, data, reference, {quantity: digits}) rows for docs/NUMERICS.md."""
    iris, fair = _iris(), _fair()
    rows: list[tuple[str, str, str, Any]] = [
        ("group table", "iris sepal_width ~ species", "scipy t.interval", _group_ci(iris)),
        ("Welch's ANOVA", "iris petal_length ~ species", "statsmodels anova_oneway",
         _welch(iris, "species", "petal_length")),
        ("Welch's ANOVA", "fair affairs ~ occupation", "statsmodels anova_oneway",
         _welch(fair, "occupation", "affairs")),
        ("Tukey HSD", "iris sepal_width ~ species", "statsmodels pairwise_tukeyhsd",
         _tukey(iris, "species", "sepal_width")),
        ("Tukey HSD", "fair rate_marriage ~ religious", "statsmodels pairwise_tukeyhsd",
         _tukey(fair, "religious", "rate_marriage")),
        ("Games-Howell", "fair affairs ~ occupation", "by hand, scipy studentized_range",
         _games_howell(fair, "occupation", "affairs")),
        ("t-tests", "iris sepal_length, petal_length", "statsmodels DescrStatsW",
         _paired_and_one_sample(iris)),
        ("chi-square", "fair religious × affair", "scipy chi2_contingency, association",
         _crosstab(fair)),
        ("correlations", "diabetes, 11 columns (55 pairs)", "pandas DataFrame.corr",
         _correlations()),
    ]  # fmt: skip
    return rows
