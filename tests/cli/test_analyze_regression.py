"""`statbot analyze ols/logit`: the regression section in JSON (full precision) and as text,
the same sentences the chat sends (one code path, issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from statbot.analysis.stats.regression_report import logit_report, ols_report
from statbot.cli import app


@pytest.fixture
def fair_csv(tmp_path: Path) -> Path:
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data.sample(600, random_state=0).reset_index(drop=True)
    frame["occupation"] = frame["occupation"].astype(int).map(lambda v: f"occ{v}")
    frame["had_affair"] = (frame["affairs"] > 0).map({True: "yes", False: "no"})
    path = tmp_path / "fair.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    return path


FEATURES = "rate_marriage,age,yrs_married,religious,occupation"


def _invoke(*args: str) -> str:
    done = CliRunner().invoke(app, ["analyze", *args])
    assert done.exit_code == 0, done.output
    return done.stdout


def test_ols_json_carries_the_regression_section(fair_csv: Path) -> None:
    out = json.loads(
        _invoke("ols", str(fair_csv), "--target", "affairs", "--features", FEATURES, "--json")
    )
    ref = ols_report(pd.read_csv(fair_csv), "affairs", FEATURES.split(","))
    assert out["model"] == "ols" and out["reference_levels"] == {"occupation": "occ1"}
    assert out["term_references"]["occupation[T.occ3]"] == "occ1"
    assert out["std_betas"]["age"] == ref.std_betas[2]  # bit-identical
    assert out["vif"]["age"] == ref.vifs[2] and out["vif"]["const"] is None
    assert out["predictor_vif"]["occupation"]["df"] == 5
    checks = out["residual_checks"]
    assert checks["breusch_pagan"]["statistic"] == ref.checks.breusch_pagan.statistic
    assert checks["normality"]["test"] == "Shapiro-Wilk"
    top = checks["influence"]["top"][0]
    assert top["row"] == ref.checks.top[0].row and isinstance(top["row"], int)
    assert out["sentences"] == ref.sentences()
    assert out["coefficients"]["age"] == ref.result.coefficients[2]


def test_ols_text_is_the_table_and_the_chat_sentences(fair_csv: Path) -> None:
    text = _invoke("ols", str(fair_csv), "--target", "affairs", "--features", FEATURES)
    header = text.splitlines()[0].split()
    assert header[:3] == ["term", "reference", "coef"] and "beta" in header and "vif" in header
    assert any(line.split()[:2] == ["occupation[T.occ2]", "occ1"] for line in text.splitlines())
    for sentence in ols_report(pd.read_csv(fair_csv), "affairs", FEATURES.split(",")).sentences():
        assert sentence in text


def test_logit_json_and_text_have_odds_ratios_with_cis(fair_csv: Path) -> None:
    args = ("logit", str(fair_csv), "--target", "had_affair", "--features", FEATURES)
    out = json.loads(_invoke(*args, "--json"))
    ref = logit_report(pd.read_csv(fair_csv), "had_affair", FEATURES.split(","))
    table = ref.to_frame().set_index("term")
    assert out["odds_ratio_ci_low"]["age"] == table.loc["age", "odds_ratio_ci_low"]
    assert out["residual_checks"] is None and out["sentences"] == ref.sentences()
    text = _invoke(*args)
    assert "odds ratio" in text.splitlines()[0] and "OR low" in text.splitlines()[0]
    assert ref.sentences()[0] in text
