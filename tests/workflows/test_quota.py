"""Quotas in the chat (issue 12): rows per dataset and storage refused where a file is loaded
and stored (nothing kept), /quota shows limits and use, an admin sets and sees overrides."""

from __future__ import annotations

from pathlib import Path

from statbot.access.models import User
from statbot.engine.replies import Reply
from statbot.testing import ChatDriver
from statbot.workflows.quota_checks import quotas as quotas_of


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def add_user(chat: ChatDriver, user_id: int, role: str = "analyst") -> None:
    assert chat.services.catalog is not None
    with chat.services.catalog.session() as s:
        s.add(User(id=user_id, name="Ann", username="ann", role=role, first_seen=1.0,
                   last_seen=1.0))  # fmt: skip


async def test_a_file_over_the_rows_quota_is_refused_and_not_stored(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var", quota_rows_per_dataset="analyst=100") as chat:
        await chat.send("/stats")
        text = said(await chat.upload(iris_csv))
        assert "The file has 150 rows; your quota allows 100 rows per dataset" in text
        assert "/quota shows your limits" in text
        assert chat.services.datasets.list(1) == []
        assert await chat.state() == ("stats", "data")


async def test_the_operators_max_rows_keeps_its_own_message(tmp_path: Path, iris_csv: Path) -> None:
    async with ChatDriver(tmp_path / "var", max_rows=50, quota_rows_per_dataset="analyst=100") as c:
        await c.send("/stats")
        text = said(await c.upload(iris_csv))
        assert "the limit is 50" in text and "quota" not in text


async def test_a_user_override_beats_the_role_default_for_rows(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var", quota_rows_per_dataset="analyst=100") as chat:
        add_user(chat, 1)
        q = quotas_of(chat.services)
        assert q is not None
        q.set_override(0, 1, "rows_per_dataset", 1000.0)
        await chat.send("/stats")
        assert "*iris.csv*: 150 rows" in said(await chat.upload(iris_csv))
        assert len(chat.services.datasets.list(1)) == 1


async def test_a_dataset_past_the_storage_quota_is_not_kept(tmp_path: Path, iris_csv: Path) -> None:
    async with ChatDriver(tmp_path / "var", quota_storage_mb="analyst=0.001") as chat:
        await chat.send("/explore")
        text = said(await chat.upload(iris_csv))
        assert "Your storage quota is full" in text and "of 0.0 MB" not in text
        assert "this dataset was not kept" in text and "/quota shows your limits" in text
        assert chat.services.datasets.list(1) == []
        assert chat.services.datasets.user_bytes(1) == 0
        assert await chat.state() == ("explore", "data")


async def test_quota_shows_limits_and_use(tmp_path: Path, iris_csv: Path) -> None:
    async with ChatDriver(tmp_path / "var", quota_trainings_per_day="analyst=3") as chat:
        await chat.send("/explore")
        await chat.upload(iris_csv)
        await chat.send("/cancel")
        text = said(await chat.send("/quota"))
        assert text.startswith("*Your quotas* (role: analyst)")
        used = chat.services.datasets.user_bytes(1) / 1024
        assert f"• Storage: {used:,.0f} KB used, of 1,000 MB (datasets and models)" in text
        assert "• Trainings today: 0 of 3 free; the count resets at 00:00 UTC." in text
        assert "• Rows per dataset: up to 1,000,000" in text
        assert "• Credits: 0 — /buy adds more." in text
        assert await chat.state() == (None, None)
        refused = said(await chat.send("/quota 2 storage_mb 5"))
        assert "Only an admin can see or set another user's quota; you are an analyst" in refused


async def test_an_admin_sets_and_sees_a_users_override(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var", owner_ids="1") as chat:
        add_user(chat, 2)
        done = said(await chat.send("/quota @ann storage_mb 50"))
        assert "User 2's storage (storage_mb) is now 50 MB, set for them (it was 1,000 MB)" in done
        await chat.send("/quota 2 trainings_per_day unlimited")
        theirs = said(await chat.send("/quota 2"))
        assert theirs.startswith("*Quotas of user 2* (role: analyst)")
        assert "used, of 50 MB" in theirs and "Trainings today: 0, no limit" in theirs
        assert "Set for this user: storage_mb = 50 MB, trainings_per_day = unlimited" in theirs
        back = said(await chat.send("/quota 2 storage_mb default"))
        assert "now 1,000 MB, back to the role's default (it was 50 MB)" in back
        assert "is not a quota" in said(await chat.send("/quota 2 storage_mb lots"))
        assert "There is no quota 'cpu'" in said(await chat.send("/quota 2 cpu 5"))
        assert "I do not know '77'" in said(await chat.send("/quota 77 storage_mb 1"))
        assert "I do not know '@bob'" in said(await chat.send("/quota @bob"))


async def test_an_admin_cannot_change_an_admins_quota(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var") as chat:
        add_user(chat, 1, "admin")
        with chat.services.catalog.session() as s:  # type: ignore[union-attr]
            s.add(User(id=3, name="Bo", role="admin", first_seen=1.0, last_seen=1.0))
        text = said(await chat.send("/quota 3 storage_mb 1"))
        assert "Only an owner can change the quotas of an admin" in text
        assert "*Quotas of user 3* (role: admin)" in said(await chat.send("/quota 3"))


async def test_describe_keeps_to_the_rows_quota(tmp_path: Path, iris_csv: Path) -> None:
    async with ChatDriver(tmp_path / "var", quota_rows_per_dataset="analyst=100") as chat:
        await chat.send("/describe")
        text = said(await chat.upload(iris_csv))
        assert "The file has 150 rows; your quota allows 100 rows per dataset" in text
        assert await chat.state() == ("describe", "file")


def test_which_finished_trainings_never_ran() -> None:
    from statbot.jobs.base import NOT_STARTED
    from statbot.workflows.training import never_ran

    assert never_ran({"status": "cancelled", "attempts": 0})
    assert not never_ran({"status": "cancelled", "attempts": 1})  # it ran, then was stopped
    assert never_ran({"status": "failed", "attempts": 1, "error": NOT_STARTED})
    assert not never_ran({"status": "failed", "attempts": 1, "error": "The data has no rows."})
    assert not never_ran({"status": "succeeded", "attempts": 1})
