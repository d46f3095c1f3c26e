from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from statbot.engine.events import Upload
from statbot.workflows.staging import (
    FAILED_TTL_S,
    StagingSweep,
    mark_failed,
    staging_usage,
    sweep_staging,
)


def _stage(data_dir: Path, user: int, name: str, size: int, age_s: float) -> Path:
    folder = data_dir / "staging" / str(user) / name
    folder.mkdir(parents=True)
    (folder / "f.csv").write_bytes(b"x" * size)
    old = time.time() - age_s
    os.utime(folder, (old, old))
    return folder


def test_usage_and_ttl_sweep(tmp_path: Path) -> None:
    fresh = _stage(tmp_path, 1, "u1", 10, age_s=5)
    failed_old = _stage(tmp_path, 1, "u2", 20, age_s=0)
    failed = mark_failed(failed_old, "validate", "not a table", now=time.time() - 7200)
    assert failed == failed_old.with_name("u2.failed")
    note = json.loads((failed / "FAILED.json").read_text())
    assert note["step"] == "validate" and note["reason"] == "not a table"
    assert note["expires_at"] - note["failed_at"] == FAILED_TTL_S
    assert abs(failed.stat().st_mtime - (time.time() - 7200)) < 5  # the TTL counts from then
    orphan = _stage(tmp_path, 2, "u3", 30, age_s=3 * 86400)
    usage = staging_usage(tmp_path)
    marker = (failed / "FAILED.json").stat().st_size
    assert usage.as_dict() == {"uploads": 3, "failed": 1, "bytes": 60 + marker}
    assert sweep_staging(tmp_path) == StagingSweep(failed_expired=1, orphan_expired=1)
    assert fresh.exists() and not failed.exists() and not orphan.exists()
    assert not orphan.parent.exists()  # empty user folder removed
    assert staging_usage(tmp_path).as_dict() == {"uploads": 1, "failed": 0, "bytes": 10}


def test_missing_staging_root(tmp_path: Path) -> None:
    assert staging_usage(tmp_path).uploads == 0 and sweep_staging(tmp_path).removed == 0


@pytest.mark.parametrize("kind", ["bad.csv"])
def test_upload_failure_marks_staging_failed(tmp_path: Path, kind: str) -> None:
    # The upload path used by the workflows: a file that cannot be loaded leaves a .failed folder.
    import asyncio

    from statbot.config import load_settings
    from statbot.engine.events import ConversationKey, Event, EventKind
    from statbot.engine.session import Session
    from statbot.engine.workflow import Context
    from statbot.errors import DataError
    from statbot.workflows.data import receive
    from statbot.workflows.services import Services

    source = tmp_path / kind
    source.write_bytes(b"\x00\x01\x02 binary junk \xff\xfe")
    key = ConversationKey("test", 1, 1)
    event = Event(
        key, EventKind.UPLOAD, "u1", 1, upload=Upload(kind, source.stat().st_size, path=str(source))
    )
    svc = Services(settings=load_settings(data_dir=tmp_path / "data"), data_dir=tmp_path / "data")
    ctx = Context(Session(key), event, None, svc)
    with pytest.raises(DataError):
        asyncio.run(receive(ctx))
    usage = staging_usage(tmp_path / "data")
    assert usage.failed == 1
