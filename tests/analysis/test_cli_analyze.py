"""`statbot analyze …` end to end through typer's CliRunner on files written by the tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from statbot.analysis.stats import nist
from statbot.analysis.stats.anova import anova_oneway
from statbot.analysis.stats.regression import ols, polynomial
from statbot.cli import app


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(8)
    n = 60
    x = rng.uniform(0, 10, n)
    frame = pd.DataFrame(
        {
            "x": x,
            "x2": rng.normal(size=n),
            "y": 1 + 2 * x + rng.normal(size=n),
            "group": rng.choice(["a", "b", "c"], n),
            "bought": np.where(x + rng.normal(scale=3, size=n) > 5, "yes", "no"),
        }
    )
    frame.loc[3, "x2"] = np.nan
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    return path


def _run(*args: str) -> dict:
    result = CliRunner().invoke(app, ["analyze", *args])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one line"
    return json.loads(lines[0])


def test_describe_json(data_file: Path) -> None:
    out = _run("describe", str(data_file), "--json")
    frame = pd.read_csv(data_file)
    for key in ("count", "mean", "std", "min", "25%", "50%", "75%", "max", "missing"):
        assert key in out["x"]
    assert out["x2"]["missing"] == 1 and out["x2"]["count"] == 59
    assert math.isclose(out["y"]["mean"], frame.y.mean(), rel_tol=1e-14)
    assert out["group"]["kind"] == "categorical"


def test_correlate_json(data_file: Path) -> None:
    out = _run("correlate", str(data_file), "--method", "kendall", "--json")
    assert out["method"] == "kendall" and out["columns"] == ["x", "x2", "y"]
    assert out["n"]["x"]["x2"] == 59 and out["r"]["x"]["y"] > 0.8


def test_test_json_and_text(data_file: Path) -> None:
    out = _run("test", str(data_file), "--a", "y", "--b", "group", "--json")
    assert out["test"] in {"one-way ANOVA", "Kruskal-Wallis test"}
    assert out["sentence"].endswith(".") and out["effect_size"]["name"]
    paired = _run("test", str(data_file), "--a", "x", "--b", "y", "--paired", "--json")
    assert "paired" in paired["test"] or "Wilcoxon" in paired["test"]
    text = CliRunner().invoke(
        app, ["analyze", "test", str(data_file), "--a", "bought", "--b", "group"]
    )
    assert text.exit_code == 0 and "Assumption expected counts ≥ 5" in text.stdout


def test_test_method_and_report_are_the_chat_text(data_file: Path) -> None:
    from statbot.analysis.stats.tests import choose_and_run
    from statbot.analysis.stats.texts import hypothesis_blocks

    out = _run("test", str(data_file), "--a", "y", "--b", "group", "--method", "ranks", "--json")
    assert out["test"] == "Kruskal-Wallis test" and out["method"] == "ranks"
    frame = pd.read_csv(data_file)
    same = choose_and_run(frame, "y", "group", method="ranks")
    assert out["report"] == [b.text for b in hypothesis_blocks(same)]
    text = CliRunner().invoke(app, ["analyze", "test", str(data_file), "--a", "y", "--b", "group"])
    assert text.stdout.splitlines()[0].split()[:2] == ["group", "n"]
    assert "Pairwise comparisons (Tukey HSD" in text.stdout
    means = _run("test", str(data_file), "--a", "y", "--b", "group", "--json")
    assert means["posthoc"]["method"] == "Tukey HSD" and len(means["posthoc"]["pairs"]) == 3
    assert means["groups"]["a"]["ci_low"] < means["groups"]["a"]["mean"]


def test_correlate_all_methods_and_left_out(data_file: Path) -> None:
    out = _run("correlate", str(data_file), "--method", "all", "--json")
    assert out["methods"] == ["pearson", "spearman", "kendall"]
    assert out["left_out"] == {"group": "not numeric", "bought": "not numeric"}
    pair = out["pairs"][0]
    assert (pair["a"], pair["b"]) == ("x", "x2") and pair["n"] == 59
    assert {"pearson", "spearman_p", "kendall"} <= set(pair)
    assert any(line.startswith("Left out: group") for line in out["report"])
    single = _run("correlate", str(data_file), "--json")
    assert single["left_out"]["group"] == "not numeric"


def test_ols_json_has_full_precision(data_file: Path) -> None:
    out = _run("ols", str(data_file), "--target", "y", "--features", "x, x2", "--json")
    for key in (
        "coefficients",
        "std_errors",
        "t_values",
        "p_values",
        "r_squared",
        "adj_r_squared",
        "residual_std_error",
        "f_statistic",
        "condition_number",
        "warnings",
    ):
        assert key in out
    ref = ols(pd.read_csv(data_file), "y", ["x", "x2"])
    assert out["coefficients"] == dict(
        zip(ref.terms, ref.coefficients, strict=False)
    )  # bit-identical floats
    assert out["r_squared"] == ref.r_squared
    assert any("missing" in w for w in out["warnings"])


def test_ols_degree_reports_original_powers(data_file: Path) -> None:
    out = _run("ols", str(data_file), "--target", "y", "--features", "x", "--degree", "3", "--json")
    assert list(out["coefficients"]) == ["const", "x", "x^2", "x^3"]
    ref = polynomial(pd.read_csv(data_file), "y", "x", 3)
    assert list(out["coefficients"].values()) == ref.coefficients
    text = CliRunner().invoke(
        app, ["analyze", "ols", str(data_file), "--target", "y", "--features", "x"]
    )
    assert text.exit_code == 0 and "condition number" in text.stdout and "const" in text.stdout


def test_logit_json(data_file: Path) -> None:
    out = _run("logit", str(data_file), "--target", "bought", "--features", "x", "--json")
    assert out["event"] == "yes" and out["coefficients"]["x"] > 0
    assert math.isclose(out["odds_ratios"]["x"], math.exp(out["coefficients"]["x"]), rel_tol=1e-15)


def test_anova_json_and_text(data_file: Path) -> None:
    out = _run("anova", str(data_file), "--group", "group", "--value", "y", "--json")
    ref = anova_oneway(pd.read_csv(data_file), "group", "y")
    for key in (
        "f_statistic",
        "p_value",
        "df_between",
        "df_within",
        "ss_between",
        "ss_within",
        "r_squared",
    ):
        assert out[key] == getattr(ref, key)
    text = CliRunner().invoke(
        app, ["analyze", "anova", str(data_file), "--group", "group", "--value", "y"]
    )
    assert "between groups" in text.stdout


@pytest.mark.parametrize("name", ["SmLs09", "AtmWtAg"])
def test_anova_cli_reaches_nist_digits(tmp_path: Path, name: str) -> None:
    data = nist.load_anova(name)
    path = tmp_path / f"{name}.csv"
    path.write_text(
        "group,value\n"
        + "".join(f"{g},{v}\n" for g, v in zip(data.groups, data.values, strict=False))
    )
    out = _run("anova", str(path), "--group", "group", "--value", "value", "--json")
    assert (out["df_between"], out["df_within"]) == (data.df_between, data.df_within)
    for key, cert in (
        ("ss_between", data.ss_between),
        ("ss_within", data.ss_within),
        ("f_statistic", data.f_statistic),
        ("r_squared", data.r_squared),
    ):
        assert nist.digits(out[key], cert) >= 10, key


def test_nan_becomes_null(tmp_path: Path) -> None:
    path = tmp_path / "apart.csv"  # a and b never have values in the same row
    path.write_text("a,b\n1,\n2,\n3,\n,4\n,6\n,5\n")
    out = _run("correlate", str(path), "--json")
    assert out["r"]["a"]["b"] is None and out["n"]["a"]["b"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["describe", "{missing}"], "no such file"),
        (["anova", "{file}", "--group", "grup", "--value", "y"], 'Did you mean "group"'),
        (
            ["ols", "{file}", "--target", "y", "--features", "x,x2", "--degree", "2"],
            "exactly one feature",
        ),
        (["correlate", "{file}", "--method", "cosine"], "pearson, spearman or kendall"),
        (["logit", "{file}", "--target", "group", "--features", "x"], "exactly two values"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    data_file: Path, args: list[str], message: str
) -> None:
    args = [a.format(file=data_file, missing=data_file.with_name("nope.csv")) for a in args]
    result = CliRunner().invoke(app, ["analyze", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
