"""Model files: skops archives restricted to an explicit allow-list of types, plus a JSON card.

Layout: ``{data_dir}/models/{user_id}/{model_id}.skops`` and ``{model_id}.json``. Writes are
atomic (temp file + rename; the card is written last, so a card means a complete model).
Loading never unpickles: a file must be a zip holding ``schema.json`` and ``.npy`` arrays,
every type named in its schema must be in ``TRUSTED_TYPES``, and skops' own untrusted-type
check must agree, before ``skops.io.loads`` runs (DESIGN.md promise 5).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.analysis._atomic import write_bytes_atomic
from statbot.analysis.ml.card import ModelCard, check_versions
from statbot.analysis.ml.model_index import CardFiles, ModelIndex
from statbot.analysis.ml.trusted_types import TRUSTED_TYPES
from statbot.errors import ModelError

if TYPE_CHECKING:
    from statbot.analysis.ml.training import TrainResult

__all__ = [
    "TRUSTED_TYPES",
    "SavedModels",
    "check_model_bytes",
    "load_estimator",
    "load_model_file",
    "new_model_id",
    "read_card",
    "save_model_files",
    "schema_types",
]

log = logging.getLogger(__name__)

_TRUSTED = frozenset(TRUSTED_TYPES)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PICKLE_PROTOCOL = re.compile(rb"^\x80[\x02-\x05]")
_COMPRESSED = {  # joblib's compressors; a joblib file is one of these around a pickle
    b"\x78": "zlib",
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x5d\x00\x00": "lzma",
    b"\x04\x22\x4d\x18": "lz4",
}
_NOT_A_MODEL = "This is not a statbot model file, so it was not loaded."


def _refuse(reason: str, user_message: str = _NOT_A_MODEL) -> ModelError:
    return ModelError(reason, user_message=user_message)


def schema_types(schema: Any) -> set[str]:
    """Every ``module.class`` a skops schema names, at any depth."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def check_model_bytes(data: bytes) -> set[str]:
    """Refuse anything that is not a skops archive of allow-listed types; return its types.

    Only zip metadata and schema.json are read; nothing is unpickled or imported.
    """
    if _PICKLE_PROTOCOL.match(data) or data[:1] in (b"(", b"]", b"}"):
        raise _refuse(
            "file is a pickle",
            "This file is a Python pickle; statbot never loads "
            "pickles because they can run code. Only statbot .skops models load.",
        )
    for magic, kind in _COMPRESSED.items():
        if data.startswith(magic):
            raise _refuse(
                f"file is {kind}-compressed (joblib?)",
                "This file looks like a "
                "compressed joblib/pickle file; statbot only loads its own .skops models.",
            )
    if not data.startswith(b"PK\x03\x04"):
        raise _refuse("not a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "schema.json" not in names:
                raise _refuse(f"zip without schema.json: {names[:5]}")
            strays = [n for n in names if n != "schema.json" and not n.endswith(".npy")]
            if strays:
                raise _refuse(f"unexpected members {strays[:5]}")
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise _refuse(f"damaged archive: {exc}") from exc
    if not isinstance(schema, dict) or "protocol" not in schema:
        raise _refuse("schema.json has no skops protocol")
    types = schema_types(schema)
    off_list = sorted(types - _TRUSTED)
    if off_list:
        raise _refuse(
            f"types off the allow-list: {off_list}",
            "This model file contains parts statbot does not produce "
            f"({', '.join(off_list[:3])}), so it was not loaded.",
        )
    from skops.io import get_untrusted_types

    untrusted = sorted(set(get_untrusted_types(data=data)) - _TRUSTED)
    if untrusted:
        raise _refuse(f"skops reports untrusted types: {untrusted}")
    return types


def load_estimator(data: bytes) -> Any:
    """The estimator in skops bytes, after ``check_model_bytes``."""
    check_model_bytes(data)
    import skops.io
    from sklearn.pipeline import Pipeline

    try:
        estimator = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises many types on damaged input; the cause is kept
        raise _refuse(f"skops could not load the model: {exc!r}") from exc
    if not isinstance(estimator, Pipeline):
        raise _refuse(f"model file holds {type(estimator).__name__}, not a Pipeline")
    return estimator


def new_model_id(idempotency_key: str | None = None, scope: str = "") -> str:
    """A fresh id, or one derived from ``idempotency_key`` so a retried job reuses it."""
    if idempotency_key is None:
        return uuid.uuid4().hex[:16]
    return hashlib.sha256(f"{scope}\x1f{idempotency_key}".encode()).hexdigest()[:16]


def save_model_files(
    directory: Path,
    result: TrainResult,
    name: str,
    model_id: str,
    user_id: str | None = None,
) -> ModelCard:
    """Write ``{model_id}.skops`` then ``{model_id}.json`` into ``directory``."""
    import skops.io

    _check_id(model_id, "model id")
    directory.mkdir(parents=True, exist_ok=True)
    data = skops.io.dumps(result.estimator)
    check_model_bytes(data)  # a type missing from the list fails here, not at the next load
    card = ModelCard.from_result(result, model_id=model_id, name=name)
    card.model_sha256 = hashlib.sha256(data).hexdigest()
    card.user_id = user_id
    write_bytes_atomic(directory / f"{model_id}.skops", data)
    write_bytes_atomic(directory / f"{model_id}.json", card.to_json().encode())
    log.info("saved model %s (%s, %s)", model_id, card.model_name, card.task)
    return card


def read_card(model_path: Path) -> ModelCard:
    card_path = model_path.with_suffix(".json")
    try:
        text = card_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise _refuse(
            f"no card at {card_path}",
            "The model's card (.json next to the .skops "
            "file) is missing, so the model cannot be checked and was not loaded.",
        ) from exc
    except UnicodeDecodeError as exc:
        raise _refuse(
            f"card is not UTF-8 text: {exc}",
            "The model's description file (card) is damaged; retrain the model.",
        ) from exc
    return ModelCard.from_json(text)


def load_model_file(model_path: Path) -> tuple[Any, ModelCard]:
    """A model file and its card (same name, ``.json``): versions checked, types checked."""
    card = read_card(model_path)
    check_versions(card)
    try:
        data = model_path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(
            f"no model file {model_path}", user_message="The model file is missing."
        ) from exc
    estimator = load_estimator(data)
    if card.model_sha256 and hashlib.sha256(data).hexdigest() != card.model_sha256:
        raise _refuse(
            "model file does not match its card",
            "The model file was changed after it was saved, so it was not loaded.",
        )
    return estimator, card


def _check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ModelError(f"bad {what}: {value!r}", user_message=f"That is not a valid {what}.")
    return value


class SavedModels:
    """Per-user model files under ``{data_dir}/models``, found through ``index`` (the catalog's
    ``models`` table in the app, issue 12; the card files when none is given).

    Named ``SavedModels`` (it was ``ModelRegistry``) so "registry" means only the engine's
    WorkflowRegistry; the on-disk layout above is unchanged, so old data dirs keep working.
    """

    def __init__(self, data_dir: Path, index: ModelIndex | None = None) -> None:
        self.root = Path(data_dir) / "models"
        self.index: ModelIndex = index if index is not None else CardFiles(self.root)

    def _user_dir(self, user_id: int | str) -> Path:
        return self.root / _check_id(str(user_id), "user id")

    def path_of(self, user_id: int | str, model_id: str) -> Path:
        return self._user_dir(user_id) / f"{_check_id(model_id, 'model id')}.skops"

    def save(
        self,
        user_id: int | str,
        result: TrainResult,
        name: str,
        idempotency_key: str | None = None,
    ) -> ModelCard:
        model_id = new_model_id(idempotency_key, scope=str(user_id))
        path = self.path_of(user_id, model_id)
        if idempotency_key is not None and path.exists() and path.with_suffix(".json").exists():
            card = read_card(path)  # a re-run of the same job: already saved
        else:
            card = save_model_files(path.parent, result, name, model_id, user_id=str(user_id))
        self.index.add(user_id, card)  # after the files: an entry always means a whole model
        return card

    def _known(self, user_id: int | str, model_id: str) -> ModelCard:
        """The model's entry, refused in words when the user has no model of that id (one
        check for load and get_card; the card is written last, so no card: never saved)."""
        card = self.index.get(user_id, model_id)
        if card is None or not self.path_of(user_id, model_id).with_suffix(".json").exists():
            raise ModelError(
                f"no model {model_id} for {user_id}",
                user_message=f"There is no model with id {model_id}.",
            )
        return card

    def load(self, user_id: int | str, model_id: str) -> tuple[Any, ModelCard]:
        indexed = self._known(user_id, model_id)
        estimator, card = load_model_file(self.path_of(user_id, model_id))
        card.name = indexed.name  # the index has the name the user gave it last
        return estimator, card

    def get_card(self, user_id: int | str, model_id: str) -> ModelCard:
        self.path_of(user_id, model_id)  # ids checked
        return self._known(user_id, model_id)

    def list(self, user_id: int | str) -> list[ModelCard]:
        self._user_dir(user_id)
        return self.index.cards(user_id)

    def rename(self, user_id: int | str, model_id: str, name: str) -> ModelCard:
        card = self.get_card(user_id, model_id)
        card.name = name.strip() or card.name
        write_bytes_atomic(
            self.path_of(user_id, model_id).with_suffix(".json"), card.to_json().encode()
        )
        self.index.rename(user_id, model_id, card.name)
        return card

    def user_bytes(self, user_id: int | str) -> int:
        """What the user's models take on disk (the storage quota counts it, issue 12)."""
        from statbot.analysis.io.datasets import folder_bytes

        return folder_bytes(self._user_dir(user_id))

    def delete(self, user_id: int | str, model_id: str) -> bool:
        path = self.path_of(user_id, model_id)
        # The entry, then the card: without them the model no longer lists or loads, even if
        # the unlinks below are interrupted.
        existed = self.index.remove(user_id, model_id)
        path.with_suffix(".json").unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        return existed

    def delete_user(self, user_id: int | str) -> int:
        directory = self._user_dir(user_id)
        count = self.index.remove_user(user_id)
        if directory.is_dir():
            shutil.rmtree(directory)
        return count
