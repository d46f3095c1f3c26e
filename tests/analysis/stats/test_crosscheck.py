"""The digits docs/NUMERICS.md records for the regression section are reached: at least 10
significant digits of agreement with statsmodels on every quantity (8 on Longley, where
statsmodels' own pinv solution holds ~11 digits and its influence measures fewer)."""

from __future__ import annotations

from statbot.analysis.stats import crosscheck

from .conftest import Case

FLOOR = {"longley": 8.0}
DEFAULT_FLOOR = 10.0


def test_ols_agrees_with_statsmodels(ols_case: Case) -> None:
    reached = crosscheck.ols_digits(ols_case)
    for quantity, value in reached.items():
        floor = FLOOR.get(ols_case.name, DEFAULT_FLOOR)
        assert value >= floor, f"{ols_case.name} {quantity}: {value:.1f} digits"


def test_logit_agrees_with_statsmodels(logit_case: Case) -> None:
    for quantity, value in crosscheck.logit_digits(logit_case).items():
        assert value >= 8.0, f"{logit_case.name} {quantity}: {value:.1f} digits"
