"""NIST StRD reference datasets as shipped inside installed packages, and a digits metric.

statbot validates its numbers against NIST certified values (DESIGN.md promise 5) using only
files that ship with its dependencies — no downloads:

- ANOVA: ``scipy/stats/tests/data/nist_anova/*.dat`` (SiRstv, SmLs01-09, AtmWtAg);
- linear regression: ``scipy/stats/tests/data/nist_linregress/Norris.dat``;
- Longley: data in ``statsmodels.datasets.longley`` and NIST's certified values in
  ``statsmodels/regression/tests/results/results_regression.py`` (class ``Longley``).

Source: https://www.itl.nist.gov/div898/strd/ (Statistical Reference Datasets).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ANOVA_NAMES = (
    "SiRstv",
    "SmLs01",
    "SmLs02",
    "SmLs03",
    "SmLs04",
    "SmLs05",
    "SmLs06",
    "SmLs07",
    "SmLs08",
    "SmLs09",
    "AtmWtAg",
)


def digits(estimate: float, certified: float) -> float:
    """Log relative error: -log10(|est - cert| / |cert|), capped at 15 (exact agreement = 15)."""
    if estimate == certified:
        return 15.0
    if not math.isfinite(estimate):
        return 0.0
    if certified == 0.0:
        return min(15.0, -math.log10(abs(estimate)))
    return max(0.0, min(15.0, -math.log10(abs(estimate - certified) / abs(certified))))


def scipy_data_dir() -> Path:
    import scipy

    return Path(scipy.__file__).parent / "stats" / "tests" / "data"


@dataclass(frozen=True)
class NistAnova:
    name: str
    df_between: int
    df_within: int
    ss_between: float
    ss_within: float
    f_statistic: float
    r_squared: float
    residual_sd: float
    groups: list[str]
    values: list[str]  # responses exactly as printed in the file

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({"group": self.groups, "value": [float(v) for v in self.values]})


_NUM = r"([-+0-9.Ee]+)"


def load_anova(name: str) -> NistAnova:
    text = (scipy_data_dir() / "nist_anova" / f"{name}.dat").read_text()
    between = re.search(rf"^Between \w+\s+(\d+)\s+{_NUM}\s+{_NUM}\s+{_NUM}", text, re.M)
    within = re.search(rf"^Within \w+\s+(\d+)\s+{_NUM}\s+{_NUM}", text, re.M)
    r2 = re.search(rf"Certified R-Squared\s+{_NUM}", text)
    sd = re.search(rf"Standard Deviation\s+{_NUM}", text)
    if not (between and within and r2 and sd):
        raise ValueError(f"{name}: certified values not found")
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.match(r"Data:\s+[A-Za-z]+\s+[A-Za-z]+\s*$", line)
    )
    rows = [line.split() for line in lines[start + 1 :] if line.strip()]
    return NistAnova(
        name=name,
        df_between=int(between[1]),
        df_within=int(within[1]),
        ss_between=float(between[2]),
        ss_within=float(within[2]),
        f_statistic=float(between[4]),
        r_squared=float(r2[1]),
        residual_sd=float(sd[1]),
        groups=[r[0] for r in rows],
        values=[r[1] for r in rows],
    )


@dataclass(frozen=True)
class NistRegression:
    name: str
    target: str
    features: list[str]
    coefficients: dict[str, float]  # keyed const + feature names
    std_errors: dict[str, float]
    residual_sd: float
    r_squared: float
    f_statistic: float
    ss_regression: float
    ss_residual: float
    data: pd.DataFrame


def load_norris() -> NistRegression:
    import pandas as pd

    text = (scipy_data_dir() / "nist_linregress" / "Norris.dat").read_text()

    def grab(pattern: str) -> tuple[float, ...]:
        m = re.search(pattern, text, re.M)
        if not m:
            raise ValueError(f"Norris: {pattern!r} not found")
        return tuple(float(g) for g in m.groups())

    b0, se0 = grab(rf"^\s+B0\s+{_NUM}\s+{_NUM}")
    b1, se1 = grab(rf"^\s+B1\s+{_NUM}\s+{_NUM}")
    (rsd,) = grab(rf"Residual\s+Standard Deviation\s+{_NUM}")
    (r2,) = grab(rf"R-Squared\s+{_NUM}")
    ssr, _, f = grab(rf"^Regression\s+1\s+{_NUM}\s+{_NUM}\s+{_NUM}")
    sse, _ = grab(rf"^Residual\s+\d+\s+{_NUM}\s+{_NUM}")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"Data:\s+y\s+x\s*$", line))
    rows = [line.split() for line in lines[start + 1 :] if line.strip()]
    data = pd.DataFrame({"y": [float(r[0]) for r in rows], "x": [float(r[1]) for r in rows]})
    return NistRegression(
        "Norris",
        "y",
        ["x"],
        {"const": b0, "x": b1},
        {"const": se0, "x": se1},
        rsd,
        r2,
        f,
        ssr,
        sse,
        data,
    )


def load_longley() -> NistRegression:
    from statsmodels.datasets import longley
    from statsmodels.regression.tests.results.results_regression import Longley

    data = longley.load_pandas().data
    features = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
    cert = Longley()
    names = [*features, "const"]  # statsmodels stores the constant last
    df_resid = cert.df_resid
    ss_residual = cert.ssr
    return NistRegression(
        "Longley",
        "TOTEMP",
        features,
        dict(zip(names, cert.params, strict=True)),
        dict(zip(names, cert.bse, strict=True)),
        math.sqrt(ss_residual / df_resid),
        cert.rsquared,
        cert.fvalue,
        cert.ess,
        ss_residual,
        data[["TOTEMP", *features]].astype(float),
    )


def anova_digits(data: NistAnova) -> dict[str, float]:
    """Digits statbot's one-way ANOVA reaches on each certified quantity (min 0, max 15)."""
    from statbot.analysis.stats.anova import anova_oneway

    res = anova_oneway(data.frame(), "group", "value")
    if (res.df_between, res.df_within) != (data.df_between, data.df_within):
        raise AssertionError(f"{data.name}: degrees of freedom differ")
    return {
        "ss_between": digits(res.ss_between, data.ss_between),
        "ss_within": digits(res.ss_within, data.ss_within),
        "f_statistic": digits(res.f_statistic, data.f_statistic),
        "r_squared": digits(res.r_squared, data.r_squared),
        "residual_sd": digits(res.residual_std_error, data.residual_sd),
    }


def regression_digits(data: NistRegression) -> dict[str, float]:
    """Digits statbot's OLS reaches: min over coefficients, min over standard errors, R², ..."""
    from statbot.analysis.stats.regression import ols

    res = ols(data.data, data.target, data.features)
    se = dict(zip(res.terms, res.std_errors, strict=True))
    return {
        "coefficients": min(digits(res.coef(t), v) for t, v in data.coefficients.items()),
        "std_errors": min(digits(se[t], v) for t, v in data.std_errors.items()),
        "r_squared": digits(res.r_squared, data.r_squared),
        "residual_sd": digits(res.residual_std_error, data.residual_sd),
        "f_statistic": digits(res.f_statistic, data.f_statistic),
        "ss_regression": digits(res.ss_regression, data.ss_regression),
        "ss_residual": digits(res.ss_residual, data.ss_residual),
    }


def scipy_anova_digits(data: NistAnova) -> float:
    """Reference: digits of ``scipy.stats.f_oneway``'s F on the same float64 data."""
    from scipy import stats

    frame = data.frame()
    groups = [g["value"].to_numpy() for _, g in frame.groupby("group", sort=False)]
    return digits(float(stats.f_oneway(*groups).statistic), data.f_statistic)


def statsmodels_ols_digits(data: NistRegression) -> float:
    """Reference: min digits over ``statsmodels.OLS`` coefficients on the same data."""
    import statsmodels.api as sm

    fit = sm.OLS(data.data[data.target], sm.add_constant(data.data[data.features])).fit()
    return min(digits(float(fit.params[t]), v) for t, v in data.coefficients.items())
