"""The residual charts of a regression report: phone-sized PNGs, influential rows labelled."""

from __future__ import annotations

import struct

import matplotlib.pyplot as plt
import numpy as np

from statbot.analysis.report.residual_charts import qq_plot, residuals_fitted

PNG = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def test_residuals_vs_fitted_and_qq_are_phone_sized_pngs_without_leaks() -> None:
    plt.close("all")
    rng = np.random.default_rng(3)
    fitted = rng.normal(size=400)
    resid = rng.normal(size=400)
    plain = residuals_fitted(fitted, resid)
    marked = residuals_fitted(fitted, resid, [(7, "row 8"), (20, "row 21")])
    qq = qq_plot(np.append(resid, np.nan))
    for png in (plain, marked, qq):
        assert png.startswith(PNG) and _size(png) == (1000, 800) and len(png) > 10_000
    assert plain != marked  # the labels are drawn
    assert plt.get_fignums() == []


def test_large_residual_sets_are_sampled() -> None:
    rng = np.random.default_rng(4)
    n = 100_000
    png = residuals_fitted(rng.normal(size=n), rng.normal(size=n), [(n - 1, "row 100000")])
    assert png.startswith(PNG) and qq_plot(rng.normal(size=n)).startswith(PNG)
