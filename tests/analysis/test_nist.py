"""statbot's statistics against NIST StRD certified values (issue #3 acceptance).

Only files shipped inside installed packages are used (see statbot.analysis.nist). Thresholds:
linear regression ≥ 9 correct significant digits (Longley, Norris), one-way ANOVA ≥ 10 digits
on every NIST ANOVA file, including the hard SmLs07-09 (13 constant leading digits).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from statbot.analysis import nist

REGRESSION_DIGITS = 9.0
ANOVA_DIGITS = 10.0


def test_every_nist_anova_file_is_shipped_and_parsed() -> None:
    folder = nist.scipy_data_dir() / "nist_anova"
    shipped = sorted(p.stem for p in folder.glob("*.dat"))
    assert shipped == sorted(nist.ANOVA_NAMES)
    smls09 = nist.load_anova("SmLs09")
    assert (smls09.df_between, smls09.df_within, len(smls09.values)) == (8, 18000, 18009)
    assert smls09.values[0] == "1000000000000.4"
    assert smls09.f_statistic == 2001.0


@pytest.mark.parametrize("name", nist.ANOVA_NAMES)
def test_anova_reaches_ten_digits(name: str) -> None:
    reached = nist.anova_digits(nist.load_anova(name))
    assert set(reached) == {"ss_between", "ss_within", "f_statistic", "r_squared", "residual_sd"}
    for quantity, value in reached.items():
        assert value >= ANOVA_DIGITS, f"{name} {quantity}: {value:.1f} digits"


def test_smls09_defeats_the_textbook_formula() -> None:
    """The check above is meaningful: naive float64 sums of squares lose most digits here."""
    data = nist.load_anova("SmLs09")
    y = np.array([float(v) for v in data.values])
    g = np.array(data.groups)
    grand = y.mean()
    ss_within = sum(float(((y[g == k] - y[g == k].mean()) ** 2).sum()) for k in np.unique(g))
    ss_between = sum((g == k).sum() * (y[g == k].mean() - grand) ** 2 for k in np.unique(g))
    f = (ss_between / 8) / (ss_within / 18000)
    assert nist.digits(float(f), data.f_statistic) < 6


@pytest.mark.parametrize("loader", [nist.load_norris, nist.load_longley], ids=["Norris", "Longley"])
def test_linear_regression_reaches_nine_digits(loader) -> None:
    data = loader()
    reached = nist.regression_digits(data)
    for quantity, value in reached.items():
        assert value >= REGRESSION_DIGITS, f"{data.name} {quantity}: {value:.1f} digits"


def test_certified_values_are_the_published_ones() -> None:
    norris = nist.load_norris()
    assert len(norris.data) == 36
    assert norris.coefficients["x"] == 1.00211681802045
    longley = nist.load_longley()
    assert len(longley.data) == 16
    assert longley.coefficients["const"] == -3482258.63459582
    assert math.isclose(longley.residual_sd, 304.854073561965, rel_tol=1e-14)


def test_digits_metric() -> None:
    assert nist.digits(1.0, 1.0) == 15.0
    assert math.isclose(nist.digits(1.000001, 1.0), 6.0, rel_tol=1e-6)
    assert nist.digits(float("nan"), 1.0) == 0.0
    assert nist.digits(2.0, 1.0) == 0.0
