"""Real data sets that packages ship (no downloads), as statbot.analysis.stats.crosscheck
builds them: statsmodels' longley, spector, fair and star98, scikit-learn's diabetes."""

from __future__ import annotations

import pytest

from statbot.analysis.stats import crosscheck
from statbot.analysis.stats.crosscheck import Case

OLS_CASES = {name: build() for name, build in crosscheck.OLS_CASES.items()}
LOGIT_CASES = {name: build() for name, build in crosscheck.LOGIT_CASES.items()}

__all__ = ["LOGIT_CASES", "OLS_CASES", "Case"]


@pytest.fixture(params=sorted(OLS_CASES))
def ols_case(request: pytest.FixtureRequest) -> Case:
    return OLS_CASES[request.param]


@pytest.fixture(params=sorted(LOGIT_CASES))
def logit_case(request: pytest.FixtureRequest) -> Case:
    return LOGIT_CASES[request.param]
