"""The dataset store indexed on the catalog (issue 12), on SQLite and PostgreSQL: the same
behaviour as with JSON sidecars, no sidecar written, and the index gives the storage a user
takes (for the storage quota)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from statbot.access.catalog import Catalog
from statbot.access.storage import CatalogDatasets
from statbot.analysis.errors import DatasetNotFound
from statbot.analysis.io.datasets import DatasetRef, DatasetStore, frame_hash
from statbot.analysis.io.schema import infer_schema


def _frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": [float(i) + 0.5 for i in range(n)], "city": pd.Categorical(["a", "b", "a"][:n])}
    )


def test_put_get_list_delete_on_the_catalog(tmp_path: Path, catalog: Catalog) -> None:
    index = CatalogDatasets(catalog)
    store = DatasetStore(tmp_path, index=index)
    frame = _frame()
    ref = store.put(42, frame, name="sales.csv")
    assert ref == DatasetRef(42, frame_hash(frame), "sales.csv")
    parquet = tmp_path / "datasets" / "42" / f"{ref.digest}.parquet"
    assert parquet.is_file() and not parquet.with_suffix(".json").exists()
    pd.testing.assert_frame_equal(store.get(ref), frame)
    info = store.info(ref)
    assert (info.rows, info.columns, info.ref) == (3, 2, ref)
    assert info.size_bytes == parquet.stat().st_size == index.total_bytes(42)
    assert info.schema == infer_schema(frame).to_dict()

    again = store.put(42, frame.copy(), name="renamed.csv")
    assert again == ref  # idempotent, the first name kept
    other = store.put(42, _frame(2), name="b.csv")
    assert [i.ref.digest for i in store.list(42)] == sorted(
        [ref.digest, other.digest], key=lambda d: (store.info(DatasetRef(42, d, d)).created, d)
    )
    assert store.list(7) == []

    assert store.delete(ref) and not parquet.exists()
    with pytest.raises(DatasetNotFound):
        store.get(ref)
    assert not store.delete(ref)
    assert store.delete_user(42) == 1
    assert store.list(42) == [] and index.total_bytes(42) == 0


def test_a_file_without_its_entry_is_not_a_dataset(tmp_path: Path, catalog: Catalog) -> None:
    store = DatasetStore(tmp_path, index=CatalogDatasets(catalog))
    ref = store.put(5, _frame())
    CatalogDatasets(catalog).remove(5, ref.digest)  # as if the row was lost
    with pytest.raises(DatasetNotFound):
        store.parquet_path(ref)
    assert store.file_of(ref).is_file()  # what a job's process reads: the file alone
    assert store.put(5, _frame()) == ref  # storing it again writes the entry again
    assert store.info(ref).rows == 3
