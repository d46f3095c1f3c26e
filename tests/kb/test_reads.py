"""Read counts for "most read": durable across restarts, a replayed update counted once."""

from __future__ import annotations

from pathlib import Path

from statbot.kb import ReadCounts, read_key


def test_reads_survive_reopening_the_file(tmp_path: Path) -> None:
    counts = ReadCounts.in_data_dir(tmp_path)
    for n, entry in enumerate(["p-value", "p-value", "mean", "p-value", "median", "mean"]):
        assert counts.record(entry, read_key("chat", f"u{n}", entry))
    counts.close()
    again = ReadCounts.in_data_dir(tmp_path)
    assert again.most_read(2) == [("p-value", 3), ("mean", 2)]
    assert (tmp_path / "kb" / "reads.sqlite").is_file()
    again.close()


def test_the_same_read_replayed_counts_once(tmp_path: Path) -> None:
    counts = ReadCounts(tmp_path / "reads.sqlite")
    key = read_key("test:1:1", "u7", "p-value")
    assert counts.record("p-value", key) is True
    assert counts.record("p-value", key) is False
    assert counts.most_read() == [("p-value", 1)]


def test_no_reads_yet_is_an_empty_list_and_no_user_is_stored(tmp_path: Path) -> None:
    counts = ReadCounts(tmp_path / "reads.sqlite")
    assert counts.most_read() == []
    counts.record("mean", read_key("telegram:4242:4242", "u1", "mean"))
    counts.close()
    assert b"4242" not in (tmp_path / "reads.sqlite").read_bytes()
