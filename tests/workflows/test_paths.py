from __future__ import annotations

import os
from pathlib import Path

import pytest

from statbot.analysis.io.paths import PathRefused, looks_like_path, resolve_server_path

MB = 2**20


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    (root / "ok.csv").write_text("a,b\n1,2\n")
    (root / "sub").mkdir()
    (tmp_path / "secret.csv").write_text("x\n")
    return root


def refused(text: str, roots: list[Path], max_bytes: int = MB) -> str:
    with pytest.raises(PathRefused) as info:
        resolve_server_path(text, roots, max_bytes)
    return info.value.user_message


def test_inside_root(root: Path) -> None:
    assert resolve_server_path(str(root / "ok.csv"), [root], MB) == (root / "ok.csv").resolve()
    assert resolve_server_path("ok.csv", [root], MB) == (root / "ok.csv").resolve()


def test_feature_off_without_roots(root: Path) -> None:
    assert "turned off" in refused(str(root / "ok.csv"), [])


def test_escapes_are_refused(root: Path, tmp_path: Path) -> None:
    assert "outside" in refused("../secret.csv", [root])
    assert "outside" in refused("../../etc/passwd", [root]) or "cannot find" in refused(
        "../../etc/passwd", [root]
    )
    assert "outside" in refused("/etc/passwd", [root])
    (root / "link.csv").symlink_to(tmp_path / "secret.csv")
    assert "outside" in refused(str(root / "link.csv"), [root])


def test_special_files_and_limits(root: Path) -> None:
    assert "folder" in refused(str(root / "sub"), [root])
    os.mkfifo(root / "pipe")
    assert "not a regular file" in refused(str(root / "pipe"), [root])
    assert "outside" in refused("/dev/zero", [root])
    assert "not a regular file" in refused("/dev/zero", [Path("/dev")])
    assert "limit" in refused(str(root / "ok.csv"), [root], max_bytes=3)
    assert "cannot find" in refused(str(root / "missing.csv"), [root])


def test_looks_like_path() -> None:
    assert looks_like_path("/srv/data/a.csv") and looks_like_path("data/a.csv")
    assert not looks_like_path("train a random forest")


def test_unknown_home_is_refused_in_words(root: Path) -> None:
    # "~nosuchuser/..." makes Path.expanduser raise RuntimeError; the user gets a sentence.
    assert "cannot find" in refused("~nosuchuser-statbot/data.csv", [root])


def test_outside_the_roots_does_not_say_whether_a_file_exists(root: Path, tmp_path: Path) -> None:
    # Answering "cannot find" for missing files and "outside" for existing ones would let a
    # user probe which files exist anywhere on the server.
    present = refused(str(tmp_path / "secret.csv"), [root])
    missing = refused(str(tmp_path / "no-such-file.csv"), [root])
    assert "folders I may read" in present
    assert "folders I may read" in missing and "cannot find" not in missing


async def test_an_unreadable_server_file_says_permission_denied(tmp_path: Path) -> None:
    """Issue 9: in words, not "could not be opened"; the conversation stays at the data step."""
    from statbot.testing import ChatDriver

    if os.geteuid() == 0:  # root reads any chmod-000 file, but not a write-only procfs entry
        root, name = Path("/proc/sys/vm"), "drop_caches"
    else:
        root, name = tmp_path / "data", "secret.csv"
        root.mkdir()
        (root / name).write_text("a,b\n1,2\n")
        (root / name).chmod(0)
    async with ChatDriver(tmp_path / "var", local_path_roots=(root,)) as chat:
        await chat.send("/stats")
        said = "\n".join(r.text for r in await chat.send(f"./{name}"))
        if "Load now" in said:  # /train-style question; /stats loads at once
            said = "\n".join(r.text for r in await chat.press("Load now"))
        assert "Permission denied" in said and name in said, said
        assert "could not be opened" not in said
        assert (await chat.state())[0] == "stats"
