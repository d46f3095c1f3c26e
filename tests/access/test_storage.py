"""The dataset store and the saved models indexed on the catalog (issue 12), on SQLite and
PostgreSQL: the same behaviour as with sidecars and card files, the index gives the storage a
user takes (for the storage quota), and an old data dir's indexes are imported at upgrade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statbot.access.catalog import Catalog
from statbot.access.storage import CatalogDatasets, CatalogModels
from statbot.analysis.errors import DatasetNotFound
from statbot.analysis.io.datasets import DatasetRef, DatasetStore, frame_hash
from statbot.analysis.io.schema import infer_schema
from statbot.analysis.ml.card import ModelCard
from statbot.analysis.ml.saved import SavedModels
from statbot.analysis.ml.training import TrainResult, train
from statbot.errors import ModelError


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


@pytest.fixture(scope="module")
def trained() -> TrainResult:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "z": rng.normal(size=60)})
    frame["y"] = frame["x"] * 2 + rng.normal(size=60) * 0.1
    return train(frame, "y", model="linear", cv=2, seed=0)


def test_saved_models_listed_from_the_catalog(
    tmp_path: Path, catalog: Catalog, trained: TrainResult
) -> None:
    index = CatalogModels(catalog)
    models = SavedModels(tmp_path, index=index)
    card = models.save(9, trained, "first", idempotency_key="job-1")
    assert models.save(9, trained, "again", idempotency_key="job-1").model_id == card.model_id
    assert [c.model_id for c in models.list(9)] == [card.model_id]
    assert models.list(8) == []
    other = models.save(9, trained, "second")
    listed = models.list(9)
    assert sorted(c.name for c in listed) == ["first", "second"]
    assert listed == sorted(listed, key=lambda c: (c.created_at, c.model_id))  # as CardFiles

    models.rename(9, card.model_id, "renamed")
    assert models.get_card(9, card.model_id).name == "renamed"
    estimator, loaded = models.load(9, card.model_id)
    assert loaded.name == "renamed" and hasattr(estimator, "predict")
    # The card file stays the model's own description (checked at every load) and follows.
    on_disk = ModelCard.from_json(models.path_of(9, card.model_id).with_suffix(".json").read_text())
    assert on_disk.name == "renamed"

    # Without its row the model is not there, even with its files.
    index.remove(9, other.model_id)
    with pytest.raises(ModelError):
        models.load(9, other.model_id)
    assert models.delete(9, card.model_id)
    assert not models.path_of(9, card.model_id).exists()
    assert models.delete_user(9) == 0 and models.list(9) == []


def test_old_model_cards_are_imported_at_upgrade(
    tmp_path: Path, catalog_url: str, trained: TrainResult
) -> None:
    from statbot.access.legacy import MODELS_IMPORTED

    data_dir = tmp_path / "data"
    old = SavedModels(data_dir)  # listed from the card files, as before the catalog
    cards = [old.save(3, trained, f"m{i}") for i in range(2)]
    damaged = old.save(4, trained, "bad")
    old.path_of(4, damaged.model_id).with_suffix(".json").write_text("{", encoding="utf-8")
    before = old.list(3)

    catalog = Catalog(catalog_url, data_dir=data_dir)
    try:
        catalog.upgrade()
        models = SavedModels(data_dir, index=CatalogModels(catalog))
        assert [c.to_dict() for c in models.list(3)] == [c.to_dict() for c in before]
        assert models.load(3, cards[0].model_id)[1].name == "m0"
        assert models.list(4) == []  # damaged: not listed before, not now; the bot starts
        assert (data_dir / MODELS_IMPORTED).is_file()
        # Imported once: a model saved later by an old-style writer is not picked up again.
        old.save(3, trained, "late")
        catalog.upgrade()
        assert len(models.list(3)) == 2
    finally:
        catalog.close()
