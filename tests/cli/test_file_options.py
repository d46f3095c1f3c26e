"""Options every `statbot analyze` command takes about its file: --header-row, and the notes
on stderr saying how columns were read (statbot.cli.common.with_file_options)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from statbot.cli import analyze, analyze_ml, app

REPORT = 'Sales report 2024\n\nregion,price,zip\nN,"$1,234.50",02134\nS,$99,10001\nE,$7,00501\n'


@pytest.fixture
def report_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text(REPORT)
    return path


def test_every_analysis_command_takes_header_row() -> None:
    group = typer.main.get_command(app).commands["analyze"]  # type: ignore[attr-defined]
    expected = sum(len(g.registered_commands) for g in (analyze.commands, analyze_ml.commands))
    assert len(group.commands) == expected >= 8
    for name, command in group.commands.items():
        assert "--header-row" in [o for p in command.params for o in p.opts], name


def test_title_rows_skipped_and_conversions_said(report_csv: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", "describe", str(report_csv), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["price"]["mean"] == pytest.approx((1234.5 + 99 + 7) / 3, rel=1e-15)
    assert data["zip"]["kind"] == "categorical" and "02134" in data["zip"]["top"]
    assert "note: price: read as numbers, currency $ removed" in result.stderr
    assert "note: zip: kept as text" in result.stderr
    assert "the column names are in row 3" in result.stderr


def test_header_row_picks_the_names(report_csv: Path) -> None:
    result = CliRunner().invoke(
        app, ["analyze", "describe", str(report_csv), "--header-row", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == ["region", "price", "zip"]
    assert "Skipped" not in result.stderr


@pytest.mark.parametrize(
    ("row", "message"),
    [("2", "Row 2 of the file is empty"), ("99", "The file has 6 rows"), ("-1", "")],
)
def test_a_bad_header_row_is_one_line_and_exit_2(report_csv: Path, row: str, message: str) -> None:
    result = CliRunner().invoke(app, ["analyze", "describe", str(report_csv), "--header-row", row])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_type_reads_a_column_as_the_chat_corrected_it(tmp_path: Path) -> None:
    # the store code 101..104 is a number unless --type says category, as "treat store as
    # category" does in the chat (its reproduce line carries the option)
    path = tmp_path / "staff.csv"
    path.write_text("store,salary\n" + "".join(f"{100 + i % 4 + 1},{40 + i}\n" for i in range(16)))
    plain = CliRunner().invoke(app, ["analyze", "describe", str(path), "--json"])
    assert json.loads(plain.stdout)["store"]["kind"] == "numeric"
    typed = CliRunner().invoke(
        app, ["analyze", "describe", str(path), "--type", "store=category", "--json"]
    )
    assert typed.exit_code == 0, typed.output
    assert json.loads(typed.stdout)["store"]["kind"] == "categorical"
    test = CliRunner().invoke(
        app,
        ["analyze", "test", str(path), "--a", "salary", "--b", "store", "--type", "store=category"],
    )
    assert test.exit_code == 0 and "ANOVA" in test.stdout, test.output


@pytest.mark.parametrize(
    ("given", "message"),
    [("store", "--type takes COLUMN=TYPE"), ("store=colour", "'colour' is not a type")],
)
def test_a_bad_type_option_is_one_line_and_exit_2(
    report_csv: Path, given: str, message: str
) -> None:
    result = CliRunner().invoke(app, ["analyze", "describe", str(report_csv), "--type", given])
    assert result.exit_code == 2 and message in result.output, result.output
