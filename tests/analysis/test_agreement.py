"""The digits docs/NUMERICS.md reports for the tests: every cell of
statbot.analysis.stats.agreement.report() at or above its floor."""

from __future__ import annotations

import math

from statbot.analysis.stats.agreement import digits, report

# scipy integrates the studentized range numerically: its p-values and quantiles agree with
# themselves to ~10 digits when the inputs differ in the 15th
FLOORS = {"Games-Howell": 10.0, "Tukey HSD": 12.0}


def test_digits_definition() -> None:
    assert digits(1.0, 1.0) == 15.0
    assert math.isclose(digits(1.0 + 1e-9, 1.0), 9.0, rel_tol=1e-6)


def test_every_reported_quantity_reaches_its_floor() -> None:
    rows = report()
    assert len(rows) == 9
    for what, data, _, cells in rows:
        floor = FLOORS.get(what, 12.0)
        for quantity, reached in cells.items():
            assert reached >= floor, (what, data, quantity, reached)
