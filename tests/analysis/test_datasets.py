"""Parquet dataset storage: atomic files, idempotent puts, listing, deletion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.errors import DatasetNotFound
from statbot.analysis.io import load_bytes
from statbot.analysis.io.datasets import DatasetRef, DatasetStore, frame_hash
from statbot.errors import DataError


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.5, np.nan, 3.25],
            "n": [1, 2, 3],
            "city": pd.Series(["Lima", None, "Oslo"], dtype="str"),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "cat": pd.Categorical(["a", "b", "a"]),
        }
    )


def test_put_get_roundtrip_keeps_values_and_dtypes(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DatasetStore(tmp_path)
    ref = store.put(42, frame, name="sales.csv")
    assert ref == DatasetRef(42, frame_hash(frame), "sales.csv")
    parquet = tmp_path / "datasets" / "42" / f"{ref.digest}.parquet"
    assert parquet.is_file() and parquet.with_suffix(".json").is_file()
    back = store.get(ref)
    pd.testing.assert_frame_equal(back, frame)
    assert not list(parquet.parent.glob(".*.tmp")), "temporary files must be renamed away"


def test_same_content_is_idempotent_per_user(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DatasetStore(tmp_path)
    first = store.put(1, frame, name="a.csv")
    stamp = (tmp_path / "datasets" / "1" / f"{first.digest}.parquet").stat().st_mtime_ns
    again = store.put(1, frame.copy(), name="renamed.csv")
    assert again == first  # the existing dataset, its original name included
    assert (tmp_path / "datasets" / "1" / f"{first.digest}.parquet").stat().st_mtime_ns == stamp
    assert len(store.list(1)) == 1
    other_user = store.put(2, frame, name="a.csv")
    assert other_user.digest == first.digest and other_user.user_id == 2
    changed = frame.assign(n=[1, 2, 4])
    assert store.put(1, changed).digest != first.digest
    assert len(store.list(1)) == 2


def test_source_hash_names_the_dataset(tmp_path: Path) -> None:
    data = b"a,b\n1,x\n2,y\n"
    loaded = load_bytes(data, "up.csv")
    store = DatasetStore(tmp_path)
    ref = store.put(7, loaded.frame, loaded.content_hash, name="up.csv")
    assert ref.digest == loaded.content_hash
    again = load_bytes(data, "up.csv")
    assert store.put(7, again.frame, again.content_hash, name="up.csv") == ref


def test_list_info_and_sizes(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DatasetStore(tmp_path)
    ref = store.put(5, frame, name="f")
    (info,) = store.list(5)
    assert info.ref == ref and (info.rows, info.columns) == (3, 6)
    assert info.size_bytes == store.size_bytes(ref) > 0
    assert store.parquet_path(ref) == tmp_path / "datasets" / "5" / f"{ref.digest}.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(store.parquet_path(ref)), frame)
    assert [c["kind"] for c in info.schema["columns"]][:2] == ["numeric", "integer"]
    assert json.loads(json.dumps(ref.to_dict())) == ref.to_dict()
    assert DatasetRef.from_dict(ref.to_dict()) == ref
    assert store.list(999) == []


def test_missing_or_corrupt_sidecar(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DatasetStore(tmp_path)
    ref = store.put(5, frame)
    sidecar = tmp_path / "datasets" / "5" / f"{ref.digest}.json"
    sidecar.write_text("{not json")
    assert store.list(5) == []
    with pytest.raises(DatasetNotFound):
        store.info(ref)
    sidecar.unlink()
    with pytest.raises(DatasetNotFound) as info:
        store.get(ref)
    assert "upload it again" in info.value.user_message
    with pytest.raises(DatasetNotFound):
        store.parquet_path(ref)


def test_delete_and_delete_user(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DatasetStore(tmp_path)
    a = store.put(9, frame)
    store.put(9, frame.head(2))
    keep = store.put(10, frame)
    assert store.delete(a) is True and store.delete(a) is False
    assert len(store.list(9)) == 1
    assert store.delete_user(9) == 1
    assert not (tmp_path / "datasets" / "9").exists()
    assert store.delete_user(9) == 0
    pd.testing.assert_frame_equal(store.get(keep), frame)


def test_rejects_path_tricks(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DatasetStore(tmp_path)
    with pytest.raises(DataError):
        store.put("../evil", frame)
    with pytest.raises(DataError):
        store.put(1, frame, content_hash="../../etc/passwd")
    with pytest.raises(DatasetNotFound):
        store.get(DatasetRef(1, "../../x", "x"))


def test_mixed_object_column_is_stored_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": pd.Series([1, "two", 3.5], dtype=object)})
    store = DatasetStore(tmp_path)
    back = store.get(store.put(1, frame))
    assert back["v"].tolist() == ["1", "two", "3.5"]


def test_duplicate_column_names_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError):
        DatasetStore(tmp_path).put(1, frame)


def test_a_category_of_numbers_comes_back_a_category(tmp_path: Path) -> None:
    """Parquet decodes a dictionary of integers as plain integers; the store restores the
    category a type correction ("treat zip as category") made."""
    store = DatasetStore(tmp_path)
    zips = pd.DataFrame(
        {"zip": pd.Categorical([10115, 20095, 10115]), "city": pd.Categorical(["B", "H", "B"])}
    )
    back = store.get(store.put(1, zips, name="zips"))
    assert isinstance(back["zip"].dtype, pd.CategoricalDtype)
    assert isinstance(back["city"].dtype, pd.CategoricalDtype)
    assert back["zip"].tolist() == [10115, 20095, 10115]
