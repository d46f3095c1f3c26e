"""/stats regression through the ChatDriver on real data (issue 11): the chat sends the very
sentences `statbot analyze ols/logit --json` prints, names reference levels, the residual
checks, both charts, and the coefficient and per-row CSVs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from statbot.engine.replies import ReplyKind
from statbot.testing import ChatDriver

from .test_stats import of_kind, png, run_line, said


@pytest.fixture
def diabetes_sex_csv(tmp_path: Path) -> Path:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"})
    path = tmp_path / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path


async def _regress(chat: ChatDriver, path: Path, target: str, features: str) -> list:
    await chat.send("/stats")
    await chat.upload(path)
    await chat.press("Regression")
    await chat.send(target)
    return await chat.send(features)


async def test_ols_in_the_chat_is_the_cli_section(chat: ChatDriver, diabetes_sex_csv: Path) -> None:
    replies = await _regress(chat, diabetes_sex_csv, "target", "bmi, bp, sex, s5, age")
    text = said(replies)
    cli = run_line(replies, diabetes_sex_csv.parent)
    assert cli["model"] == "ols" and cli["reference_levels"] == {"sex": "female"}
    for sentence in cli["sentences"]:
        assert sentence in text
    assert "*Coefficients*" in text and "*Residual checks*" in text
    assert "sex = male: target is " in text and "reference level female" in text
    assert "Breusch-Pagan LM = " in text and "Shapiro-Wilk W = " in text
    images = of_kind(replies, ReplyKind.IMAGE)
    assert [i.file_name for i in images] == ["residuals.png", "qq.png"]
    assert all(png(i) for i in images)
    coefficients, rows = [
        d for d in of_kind(replies, ReplyKind.DOCUMENT) if (d.file_name or "").endswith(".csv")
    ]
    table = pd.read_csv(coefficients.path or "")
    assert list(table.columns[:3]) == ["term", "reference", "coefficient"]
    assert {"std_beta", "vif", "t", "p_value", "ci_low", "ci_high"} <= set(table.columns)
    assert table.set_index("term").loc["sex[T.male]", "reference"] == "female"
    per_row = pd.read_csv(rows.path or "")
    assert len(per_row) == 442 and per_row["row"].iloc[0] == 1
    top = cli["residual_checks"]["influence"]["top"][0]
    assert per_row.set_index("row").loc[top["row"], "cooks_distance"] == pytest.approx(
        top["cooks_distance"], rel=1e-12
    )
    assert f"row {top['row']} (D = " in text


async def test_logit_in_the_chat_gives_odds_ratios(chat: ChatDriver, tmp_path: Path) -> None:
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data.sample(800, random_state=1)
    frame["occupation"] = frame["occupation"].astype(int).map(lambda v: f"occ{v}")
    frame["cheated"] = (frame["affairs"] > 0).map({True: "yes", False: "no"})
    path = tmp_path / "fair.csv"
    frame.to_csv(path, index=False)
    replies = await _regress(chat, path, "cheated", "rate_marriage, age, religious, occupation")
    text = said(replies)
    cli = run_line(replies, tmp_path)
    for sentence in cli["sentences"]:
        assert sentence in text
    assert "4 predictors (8 terms)" in text and "the odds of cheated = yes" in text
    assert "reference level occ1" in text and of_kind(replies, ReplyKind.IMAGE) == []
    [doc] = [
        d for d in of_kind(replies, ReplyKind.DOCUMENT) if (d.file_name or "").endswith(".csv")
    ]
    table = pd.read_csv(doc.path or "").set_index("term")
    assert table.loc["age", "odds_ratio_ci_low"] == pytest.approx(
        cli["odds_ratio_ci_low"]["age"], rel=1e-12
    )
