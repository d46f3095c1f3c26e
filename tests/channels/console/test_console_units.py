"""The console's pieces on their own: line parsing, rendering, menu tracking, staging."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from statbot.channels.console.channel import ConsoleChannel, console_key
from statbot.channels.console.parse import (
    Command,
    More,
    Pick,
    Problem,
    Quit,
    SendFile,
    Text,
    parse_line,
)
from statbot.channels.console.render import ConsoleRenderer, choice_lines, plain
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import DONE_OPTION, Option, OutboxItem, Reply

MENU = Reply.ask("Pick", [Option("c0", "price"), Option("c1", "unit weight")], multi=True)


def test_plain_strips_markup_only() -> None:
    assert plain("*bold* and `code` with a * star") == "bold and code with a * star"
    assert plain("table:\n`a  b\n1  2`\nend") == "table:\na  b\n1  2\nend"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", None),
        ("/quit", Quit()),
        ("/EXIT", Quit()),
        ("/describe now please", Command("describe", "now please")),
        ("1", Pick("c0")),
        ("2", Pick("c1")),
        ("3", Pick(DONE_OPTION)),
        ("done", Pick(DONE_OPTION)),
        ("Unit_Weight", Pick("c1")),
        ("c0", Pick("c0")),
        ("4", Text("4")),
        ("all except price", Text("all except price")),
        ("upload", Problem("Usage: upload PATH")),
        ("upload nowhere.csv", Problem("No such file: nowhere.csv")),
    ],
)
def test_parse_line_with_a_menu(line: str, expected: object, tmp_path: Path) -> None:
    assert parse_line(line, MENU, tmp_path) == expected


def test_parse_line_without_a_menu_and_files(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    assert parse_line("1", None, tmp_path) == Text("1")
    assert parse_line("done", None, tmp_path) == Text("done")
    assert parse_line("d.csv", None, tmp_path) == SendFile(data.resolve())
    assert parse_line(f"upload '{data}'", None, tmp_path) == SendFile(data.resolve())
    assert parse_line(str(data), MENU, tmp_path) == SendFile(data.resolve())
    assert parse_line(str(tmp_path), None, tmp_path) == Text(str(tmp_path))  # a folder is text
    years = Reply.ask("Year?", [Option("y1", "2015"), Option("y2", "2016")])
    assert parse_line("2016", years, tmp_path) == Pick("y2")
    assert parse_line("1", years, tmp_path) == Pick("y1")
    many = Reply.ask("Pick", [Option(str(i), f"o{i}") for i in range(20)], page_size=8)
    assert parse_line("more", many, tmp_path) == More()
    assert parse_line("more", MENU, tmp_path) == Text("more")  # one page: nothing to turn


def test_choice_lines_number_across_pages_and_tick() -> None:
    many = Reply.ask(
        "Columns", [Option(f"c{i}", f"col{i}") for i in range(10)], multi=True, page_size=4
    )
    many = Reply.ask(
        many.text, many.options, multi=True, selected=("c5",), page_size=many.page_size
    )
    first = choice_lines(many, 0)
    assert first[0] == "Columns"
    assert first[1] == "   1. [ ] col0"
    assert 'more… (type "more" for 5–8 of 10)' in first[-2]
    assert first[-1] == "  11. Done (1 selected)"
    second = choice_lines(many, 1)
    assert "   6. [x] col5" in second
    last = choice_lines(many, 2)
    assert "  10. [ ] col9" in last and "from the top" in last[-2]
    single = choice_lines(Reply.ask("Which?", [Option("a", "Alpha")]))
    assert single == ["Which?", "  1. Alpha"]


def screen(written: str) -> list[str]:
    """What a terminal shows after ``written`` (``\\r`` returns to the line's start)."""
    rows: list[list[str]] = [[]]
    col = 0
    for char in written:
        if char == "\n":
            rows.append([])
            col = 0
        elif char == "\r":
            col = 0
        else:
            row = rows[-1]
            row[col : col + 1] = [char]
            col += 1
    return ["".join(row).rstrip() for row in rows]


def test_progress_is_one_line_on_a_terminal_and_steps_on_a_pipe(tmp_path: Path) -> None:
    tty = io.StringIO()
    renderer = ConsoleRenderer(tty, tmp_path, tty=True)
    renderer.show(Reply.progress("p", 0.25, "reading"))
    renderer.show(Reply.progress("p", 0.25, "reading"))  # unchanged: not drawn again
    renderer.show(Reply.progress("p", 1.0, "done"))
    renderer.show(Reply.say("finished"))
    assert tty.getvalue().count("\n") == 2
    assert screen(tty.getvalue()) == ["[####################] 100% done", "finished", ""]
    pipe = io.StringIO()
    renderer = ConsoleRenderer(pipe, tmp_path, tty=False)
    renderer.show(Reply.progress("p", 0.5, "fitting"))
    renderer.show(Reply.progress("p", 0.5, "fitting"))
    renderer.show(Reply.progress("p", 1.0, "done"))
    assert pipe.getvalue().splitlines() == [
        "[##########..........]  50% fitting",
        "[####################] 100% done",
    ]


def test_replies_arriving_at_the_prompt_keep_the_prompt_last(tmp_path: Path) -> None:
    out = io.StringIO()
    renderer = ConsoleRenderer(out, tmp_path, tty=True)
    renderer.lines(["Training started."])
    renderer.prompt()
    for fraction, step in ((0.1, "loading the data"), (0.5, "fold 3/5")):
        renderer.unprompt()  # what the channel does around a delivery while waiting
        renderer.show(Reply.progress("job", fraction, step))
        renderer.prompt()
    assert screen(out.getvalue()) == [
        "Training started.",
        "[##########..........]  50% fold 3/5>",
    ]
    renderer.unprompt()
    renderer.show(Reply.say("Done: R² 0.97"))
    renderer.prompt()
    assert screen(out.getvalue()) == [
        "Training started.",
        "[##########..........]  50% fold 3/5",
        "Done: R² 0.97",
        ">",
    ]


def test_files_are_copied_to_the_output_folder(tmp_path: Path) -> None:
    source = tmp_path / "data" / "chart.png"
    source.parent.mkdir()
    source.write_bytes(b"png-1")
    out = io.StringIO()
    renderer = ConsoleRenderer(out, tmp_path / "out", tty=False)
    renderer.show(Reply.image(str(source), "*Histogram*", "hist.png"))
    renderer.show(Reply.image(str(source), "*Histogram*", "hist.png"))  # re-sent: same file
    source.write_bytes(b"png-2")
    renderer.show(Reply.image(str(source), "", "hist.png"))  # a different file, same name
    renderer.show(Reply.document(str(tmp_path / "gone.csv"), "gone.csv"))
    lines = out.getvalue().splitlines()
    first = tmp_path / "out" / "hist.png"
    assert lines[0] == f"[image saved to {first.resolve()}] — Histogram"
    assert lines[1] == lines[0]
    assert lines[2] == f"[image saved to {(tmp_path / 'out' / 'hist-2.png').resolve()}]"
    assert lines[3] == "[document gone.csv is no longer available]"
    assert first.read_bytes() == b"png-1"


async def test_menu_tracking_and_events(tmp_path: Path) -> None:
    out = io.StringIO()
    channel = ConsoleChannel(
        user_id=7, data_dir=tmp_path, out_dir=tmp_path / "out", out=out, tty=False, cwd=tmp_path
    )
    key = str(console_key(7))
    menu = Reply.ask("Pick", MENU.options, multi=True)
    menu = Reply(**{**{f: getattr(menu, f) for f in menu.__dataclass_fields__}, "token": "t1"})
    # A menu followed by a hint in the same event's replies stays open.
    shown = await channel.deliver(
        key, [OutboxItem(key, 1, "u1", menu), OutboxItem(key, 2, "u1", Reply.say("hint"))]
    )
    assert shown == [1, 2]
    assert channel.menu is not None and channel.menu.token == "t1"
    pick = await channel.event_for(Pick("c1"))
    assert (pick.kind, pick.choice, pick.token, pick.event_id) == (
        EventKind.CHOICE,
        "c1",
        "t1",
        "u1",
    )
    # The menu survives a restart of the channel (same data dir).
    again = ConsoleChannel(
        user_id=7, data_dir=tmp_path, out_dir=tmp_path / "out", out=out, tty=False
    )
    assert again.menu == channel.menu
    # A later event's replies without a menu close it.
    await channel.deliver(key, [OutboxItem(key, 3, "u2", Reply.say("result"))])
    assert channel.menu is None
    # Progress alone does not close a menu.
    await channel.deliver(key, [OutboxItem(key, 4, "u3", menu)])
    await channel.deliver(key, [OutboxItem(key, 5, "j1:1", Reply.progress("p", 0.5, "half"))])
    assert channel.menu is not None


async def test_uploads_are_staged_copies(tmp_path: Path) -> None:
    source = tmp_path / "mine.csv"
    source.write_text("a,b\n1,2\n")
    channel = ConsoleChannel(
        user_id=3,
        data_dir=tmp_path / "var",
        out_dir=tmp_path / "out",
        out=io.StringIO(),
        tty=False,
    )
    channel.next_update_id = 41
    event = await channel.event_for(SendFile(source))
    assert isinstance(event, Event) and event.kind is EventKind.UPLOAD
    assert event.update_id == 41 and channel.next_update_id == 42
    assert event.upload is not None
    staged = Path(event.upload.path or "")
    assert staged.parent.parent == tmp_path / "var" / "staging" / "3"
    assert (event.upload.file_name, event.upload.size) == ("mine.csv", len("a,b\n1,2\n"))
    check_staged_copy(staged, source)


def check_staged_copy(staged: Path, source: Path) -> None:
    assert staged.read_text() == source.read_text()
    source.write_text("changed")  # the staged copy does not follow the original
    assert staged.read_text() == "a,b\n1,2\n"


def test_an_invoice_is_said_and_payment_calls_show_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    renderer = ConsoleRenderer(out, tmp_path, tty=False)
    renderer.show(Reply.invoice("10 credits", "Ten *trainings*", "pack:10:50:1", 50))
    renderer.show(Reply.checkout("Q", ok=True))
    renderer.show(Reply.refund(1, "stx1"))
    shown = out.getvalue()
    assert "[invoice] 10 credits — 50 Telegram Stars" in shown
    assert "Ten trainings" in shown and "cannot pay" in shown
    assert "Q" not in shown and "stx1" not in shown
