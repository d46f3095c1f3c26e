"""Hostile inputs through the /train data step, on the real engine and real services.

Every file of the analysis issue's malformed-file corpus is uploaded at the data step; each gets
a clear reply (never the generic "something went wrong", never silence) and the conversation is
still usable afterwards: a good CSV then loads and training can be set up. Server paths that
escape ``STATBOT_LOCAL_PATH_ROOTS`` (``..``, a symlink out, ``/dev/zero``, a FIFO, a directory,
a file over the size limit) and the feature turned off are refused in words, the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from tests.analysis.test_hostile_corpus import CASES, DEFAULT, Case

from statbot.analysis.io.limits import DataLimits
from statbot.engine.replies import Reply
from statbot.engine.texts import SOMETHING_WENT_WRONG
from statbot.testing import DEFAULT_KEY, ChatDriver

GOOD_CSV = "size,colour,price\n" + "".join(
    f"{i % 7 + 1},{('red', 'blue', 'green')[i % 3]},{(i % 7 + 1) * 2.5 + i % 2}\n"
    for i in range(9)  # small enough for every configured limit of the corpus
)


def open_chat(tmp_path: Path, **settings: Any) -> ChatDriver:
    """The bot's own wiring (ChatDriver) on ``tmp_path/var``, with ``settings`` overrides."""
    return ChatDriver(tmp_path / "var", **settings)


async def state_of(chat: ChatDriver) -> str | None:
    """The conversation's state as stored."""
    return (await chat.state())[1]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text or "" for r in replies)


def assert_clear(replies: list[Reply], what: str) -> str:
    """A reply came, it has words, and it is not the generic failure."""
    said = text_of(replies).strip()
    assert said, f"{what}: no reply at all"
    assert SOMETHING_WENT_WRONG not in said, f"{what}: generic failure: {said!r}"
    assert "went wrong" not in said.lower(), f"{what}: {said!r}"
    return said


async def still_usable(chat: ChatDriver) -> None:
    """A good CSV loads at a fresh /train and the user can go on to pick the target."""
    good = chat.data_dir.parent / "good.csv"
    good.write_text(GOOD_CSV)
    await chat.send("/cancel")
    assert "Let's train a model" in text_of(await chat.send("/train"))
    shown = assert_clear(await chat.upload(good), "good csv")
    assert "good.csv" in shown and "9 rows" in shown and "Column types" in shown
    assert await state_of(chat) == "schema"
    target = text_of(await chat.text("looks right"))
    assert await state_of(chat) == "target", target
    features = text_of(await chat.text("price"))
    assert await state_of(chat) == "features", features


def _limits_settings(limits: DataLimits) -> dict[str, Any]:
    return dataclasses.asdict(limits)


async def _upload_case(chat: ChatDriver, case: Case) -> None:
    path = chat.data_dir.parent / "corpus" / case.name / case.file_name
    path.parent.mkdir(parents=True)
    path.write_bytes(case.build())
    await chat.send("/cancel")
    assert "Let's train a model" in text_of(await chat.send("/train"))
    said = assert_clear(await chat.upload(path), case.name)
    state = await state_of(chat)
    if state == "data":  # refused: the reply says why, and the step asks again
        # /train refuses a table it cannot learn from (one column), in words
        loads = case.expect == "frame" and "only one column" not in said
        assert not loads, f"{case.name}: refused but should load: {said!r}"
    else:  # loaded: the user is shown what was read and asked to confirm it
        assert state == "schema", f"{case.name}: in state {state!r}: {said!r}"
        assert "Column types" in said, f"{case.name}: {said!r}"
        assert not isinstance(case.expect, type), f"{case.name}: loaded, expected refusal"


async def test_the_hostile_corpus_at_the_train_data_step(tmp_path: Path) -> None:
    default_cases = [c for c in CASES if c.limits == DEFAULT]
    async with open_chat(tmp_path) as chat:
        for case in default_cases:
            await _upload_case(chat, case)
        await still_usable(chat)
        # Nothing was left behind in staging but failure markers for the sweep.
        staging = tmp_path / "var" / "staging" / str(DEFAULT_KEY.user_id)
        leftovers = [p.name for p in staging.iterdir()] if staging.exists() else []
        assert all(name.endswith(".failed") for name in leftovers), leftovers


@pytest.mark.parametrize("case", [c for c in CASES if c.limits != DEFAULT], ids=lambda c: c.name)
async def test_corpus_cases_over_configured_limits(tmp_path: Path, case: Case) -> None:
    async with open_chat(tmp_path, **_limits_settings(case.limits)) as chat:
        await _upload_case(chat, case)
        assert await state_of(chat) == "data"
        said = text_of(chat.replies[-3:])
        assert "limit" in said.lower() or "at most" in said.lower(), said
        await still_usable(chat)


async def test_an_upload_over_the_file_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(20_000)))
    async with open_chat(tmp_path, max_file_mb=0.05) as chat:
        await chat.send("/train")
        said = assert_clear(await chat.upload(big), "oversized upload")
        assert "limit" in said and await state_of(chat) == "data", said
        # A declared size over the limit is refused as well, whatever the bytes turn out to be.
        small = tmp_path / "small.csv"
        small.write_text("a,b\n1,2\n")
        said = assert_clear(await chat.upload(small, size=10 * 2**20), "declared size")
        assert "limit" in said and await state_of(chat) == "data", said
        await still_usable(chat)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "allowed"
    (root / "folder").mkdir(parents=True)
    (root / "ok.csv").write_text(GOOD_CSV)
    (root / "big.csv").write_text("a,b\n" + "1,2\n" * 40_000)
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    (root / "link.csv").symlink_to(tmp_path / "secret.csv")
    os.mkfifo(root / "pipe.csv")
    return root


PATH_CASES = {
    "../../etc/passwd": ("outside", "cannot find"),
    "../secret.csv": ("outside",),
    "/etc/passwd": ("outside",),
    "{root}/link.csv": ("outside",),
    "/dev/zero": ("outside",),
    "{root}/pipe.csv": ("not a regular file",),
    "{root}/folder": ("folder",),
    "{root}/big.csv": ("limit",),
    "{root}/missing.csv": ("cannot find",),
}


async def test_server_path_escapes_are_refused(tmp_path: Path, root: Path) -> None:
    async with open_chat(tmp_path, local_path_roots=(root,), max_file_mb=0.1) as chat:
        await chat.send("/train")
        for typed, expected in PATH_CASES.items():
            said = assert_clear(await chat.text(typed.format(root=root)), typed)
            assert any(e in said for e in expected), f"{typed}: {said!r}"
            assert await state_of(chat) == "data", f"{typed}: moved on: {said!r}"
            assert "hunter2" not in said
        # The FIFO was never opened for reading (that would block): the test got here.
        said = text_of(await chat.text(str(root / "ok.csv")))
        assert "Load now" in said or "load it now" in said, said
        shown = text_of(await chat.press_id("load_now"))
        assert "ok.csv" in shown and "Column types" in shown, shown
        await still_usable(chat)


async def test_server_paths_turned_off(tmp_path: Path, root: Path) -> None:
    async with open_chat(tmp_path) as chat:
        await chat.send("/train")
        for typed in (str(root / "ok.csv"), "../../etc/passwd", "/dev/zero"):
            said = assert_clear(await chat.text(typed), typed)
            assert "turned off" in said and await state_of(chat) == "data", said
        await still_usable(chat)


HOSTILE_NAMES = [
    "..",
    ".",
    "",
    "../../evil.csv",
    "a/b/evil.csv",
    "/etc/evil.csv",
    "x\x00y.csv",
    "a" * 300 + ".csv",
    "new\nline.csv",
    "..\\..\\evil.csv",
    " .csv",
    "évil ☃.csv",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
async def test_hostile_upload_file_names(tmp_path: Path, name: str) -> None:
    source = tmp_path / "source.csv"
    source.write_text(GOOD_CSV)
    async with open_chat(tmp_path) as chat:
        await chat.send("/train")
        said = assert_clear(await chat.upload(source, file_name=name), repr(name))
        assert await state_of(chat) in ("schema", "data"), said
        if await state_of(chat) == "schema":
            assert "9 rows" in said
        await still_usable(chat)
    assert _strays(tmp_path) == []  # nothing written outside the data folder


def _strays(tmp_path: Path) -> list[Path]:
    outside = [p for p in tmp_path.rglob("*evil*") if "var" not in p.relative_to(tmp_path).parts]
    return outside + [p for p in (Path("/etc/evil.csv"),) if p.exists()]


def _train_a_model(data_dir: Path, user_id: int) -> None:
    """A small saved model, trained in-process, so /predict has something to choose."""
    import io

    import pandas as pd

    from statbot.analysis.ml.saved import SavedModels
    from statbot.analysis.ml.training import train

    frame = pd.read_csv(io.StringIO(GOOD_CSV * 1))
    frame = pd.concat([frame] * 4, ignore_index=True)
    result = train(frame, "price", ["size", "colour"], model="random_forest", cv=2)
    SavedModels(data_dir).save(user_id, result, "price model")


OTHER_STEPS: dict[str, list[str]] = {
    "stats": [],
    "explore": [],
    "describe": [],
    "predict": ["latest"],  # the model step comes before the data step
}
DATA_STEP = {"stats": "data", "explore": "data", "describe": "file", "predict": "data"}


@pytest.mark.parametrize("command", list(OTHER_STEPS))
async def test_the_corpus_at_the_other_data_steps(tmp_path: Path, command: str) -> None:
    """The same files at the data step of every other workflow: a clear reply each time."""
    if command == "predict":
        await asyncio.to_thread(_train_a_model, tmp_path / "var", DEFAULT_KEY.user_id)
    cases = [c for c in CASES if c.limits == DEFAULT]
    if command == "predict":  # refusals take /train's path; of the tables that load (each
        # then meets the model's card, ~0.5 s for the model load), every third
        cases = [c for c in cases if not isinstance(c.expect, type)][::3]
    async with open_chat(tmp_path) as chat:
        for case in cases:
            path = chat.data_dir.parent / "corpus" / case.name / case.file_name
            await asyncio.to_thread(_write, path, case.build())
            await chat.send("/cancel")
            await chat.send(f"/{command}")
            for answer in OTHER_STEPS[command]:
                await chat.text(answer)
            waiting = await state_of(chat)
            assert waiting == DATA_STEP[command], f"{command}: not at the data step"
            said = assert_clear(await chat.upload(path), f"{command}/{case.name}")
            if isinstance(case.expect, type):  # the loader refuses it: so must the workflow
                assert await state_of(chat) == waiting, f"{command}/{case.name}: {said!r}"
        await chat.send("/cancel")
        await chat.send(f"/{command}")
        for answer in OTHER_STEPS[command]:
            await chat.text(answer)
        good = tmp_path / "good.csv"
        await asyncio.to_thread(good.write_text, GOOD_CSV)
        said = assert_clear(await chat.upload(good), f"{command}/good")
        assert "9 rows" in said or "9 predictions" in said, said


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


HOSTILE_TEXTS = [
    " ",
    "\x00\x01\x02",
    "💥" * 60,
    "x" * 5000,
    "'; DROP TABLE sessions; --",
    "{{7*7}} ${jndi:ldap://x} %s%n",
    "<b>bold</b> *star* _under_ `tick`",
    "-1",
    "999999",
    "NaN",
    "all except",
    ",,,",
    "\u202eevil\u202c",
]
TRAIN_STEPS = [  # (state, what moves the conversation on from it)
    ("schema", "looks right"),
    ("target", "price"),
    ("features", "all"),
    ("model", "random forest"),
]


async def _hostile_at(chat: ChatDriver, state: str) -> None:
    for text in HOSTILE_TEXTS:
        said = assert_clear(await chat.text(text), f"{state}: {text[:20]!r}")
        assert await state_of(chat) == state, f"{state}: {text[:20]!r} moved it: {said!r}"
    said = assert_clear(await chat.press_id("no-such-option"), f"{state}: forged choice")
    assert await state_of(chat) == state, said
    stale = await chat.press_id("ok", token="stale-token")
    assert "out of date" in assert_clear(stale, f"{state}: stale press")
    assert await state_of(chat) == state
    other = chat.data_dir.parent / "other.csv"
    await asyncio.to_thread(other.write_text, "q,r\n1,2\n")
    said = assert_clear(await chat.upload(other), f"{state}: upload")
    assert await state_of(chat) == state, said


async def test_hostile_typing_at_every_train_step(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV)
    async with open_chat(tmp_path) as chat:
        await chat.send("/train")
        for text in HOSTILE_TEXTS:
            said = assert_clear(await chat.text(text), f"data: {text[:20]!r}")
            assert await state_of(chat) == "data", said
        await chat.upload(good)
        for state, answer in TRAIN_STEPS:
            assert await state_of(chat) == state
            await _hostile_at(chat, state)
            await chat.text(answer)
        assert await state_of(chat) == "confirm"
        assert "Ready to train *random forest* to predict *price*" in text_of(chat.replies[-1:])
        await _hostile_at(chat, "confirm")  # nothing starts a job but the Train button


def _swap(path: Path, how: str, outside: Path) -> None:
    path.unlink()
    if how == "symlink":
        path.symlink_to(outside)
    else:
        os.mkfifo(path)


def _unblock_fifo(path: Path) -> None:
    """If a reader is stuck on the FIFO, give it an end of file (so the test cannot hang)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # nobody is reading it: good
    os.close(fd)


@pytest.mark.parametrize("how", ["symlink", "fifo"])
@pytest.mark.parametrize("when", ["load_now", "deferred"])
async def test_a_server_file_swapped_after_the_check(
    tmp_path: Path, root: Path, how: str, when: str
) -> None:
    """The path was fine when typed; before it is read (Load now, or training time for a
    deferred load) it becomes a symlink out of the root or a FIFO. It is checked again."""
    target = root / "swap.csv"
    target.write_text(GOOD_CSV)
    async with open_chat(tmp_path, local_path_roots=(root,)) as chat:
        await chat.send("/train")
        assert "load it now" in text_of(await chat.text(str(target)))
        if when == "deferred":
            await chat.press_id("defer")
            await chat.text("size:int, colour:category, price:float")
            await chat.text("price")
            await chat.text("all")
            await chat.text("random forest")
            assert await state_of(chat) == "confirm"
        await asyncio.to_thread(_swap, target, how, tmp_path / "secret.csv")
        step = chat.press_id("load_now") if when == "load_now" else chat.press_id("train")
        try:
            replies = await asyncio.wait_for(step, timeout=10)
        except TimeoutError:
            await asyncio.to_thread(_unblock_fifo, target)
            pytest.fail(f"reading the swapped {how} hung")
        finally:
            await asyncio.to_thread(_unblock_fifo, target)
        said = assert_clear(replies, f"{how}/{when}")
        assert "hunter2" not in said and "password" not in said
        expected = "outside" if how == "symlink" else "not a regular file"
        assert expected in said, said
        await still_usable(chat)
