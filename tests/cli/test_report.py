"""`statbot analyze ... --html FILE`: the chat's report for the chat's own lines, the command's
text and JSON tables otherwise; hostile names escaped (statbot.cli.report)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from typer.testing import CliRunner

from statbot.cli import app

HOSTILE = "<script>alert(1)</script>"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.images += tag == "img"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture
def iris_csv(tmp_path: Path) -> Path:
    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", HOSTILE, "species"]
    frame["price"] = [f"${v * 1000:,.2f}" for v in frame["sepal_length"]]
    path = tmp_path / "iris.csv"
    path.write_text("Iris, priced\n" + frame.to_csv(index=False))
    return path


def test_describe_html_is_the_chats_report(iris_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        app, ["analyze", "describe", str(iris_csv), "--columns", "price,sepal_length",
              "--html", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = _page(out)
    text = "".join(page.text)
    assert "price: read as numbers, currency $ removed" in text
    assert "The column names are in row 2" in text
    assert "statbot analyze describe iris.csv --columns price,sepal_length --json" in text
    assert page.images == 2 and "script" not in page.tags


def test_a_command_the_chat_does_not_offer_reports_its_own_text(
    iris_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "c.html"
    result = CliRunner().invoke(
        app, ["analyze", "correlate", str(iris_csv), "--method", "spearman", "--header-row",
              "2", "--html", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = _page(out)
    text = "".join(page.text)
    assert HOSTILE in text and "script" not in page.tags
    assert "--method spearman" in text and "--header-row 2" in text
    assert "charts come with the chat's analyses" in text
    assert "table" in page.tags


def test_an_unwritable_report_is_one_line_and_exit_2(iris_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "r.html"
    result = CliRunner().invoke(app, ["analyze", "describe", str(iris_csv), "--html", str(out)])
    assert result.exit_code == 2 and "could not write the report" in result.output
    assert "Traceback" not in result.output


def test_train_html_has_the_chats_charts(iris_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    args = ["analyze", "train", str(iris_csv), "--target", "species", "--model", "logistic"]
    result = CliRunner().invoke(app, [*args, "--cv", "3", "--html", str(out), "--json"])
    assert result.exit_code == 0, result.output
    page = _page(out)
    text = "".join(page.text)
    # confusion matrix, ROC curves, importances and the models compared (the baseline among
    # them), as in the chat's training report
    assert page.images == 4 and "script" not in page.tags
    assert "Confusion matrix (holdout)" in text and "ROC curve (holdout)" in text
    assert "Models compared by cross-validation" in text
    assert "charts come with the chat's analyses" not in text
    assert "It beats the baseline" in text  # the chat's sentences
    assert "statbot analyze train iris.csv --target species --model logistic --cv 3" in text
