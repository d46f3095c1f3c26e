"""/train's "Train and tune" (issue 11) through the ChatDriver, with a real local job runner:
the tuned training reports its search with the CV scores, the reproduce line says `--tune`,
and a Retry after a failure keeps the choice."""

from __future__ import annotations

from pathlib import Path

from statbot.engine.replies import Reply
from statbot.testing import ChatDriver


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def ended(replies: list[Reply]) -> bool:
    return any(
        "Model trained" in r.text or "Model saved, but" in r.text or "training failed" in r.text
        for r in replies
    )


async def until_ended(chat: ChatDriver, start: int) -> str:
    replies = await chat.wait_for(lambda r: ended(r[start:]), seconds=180)
    return said(replies[start:])


async def test_train_and_tune_reports_the_search(tmp_path: Path, iris_csv: Path) -> None:
    async with ChatDriver(tmp_path / "var", jobs=True) as chat:
        await chat.send("/train")
        await chat.upload(iris_csv)
        await chat.press("Looks right")
        await chat.send("species")
        await chat.press("Done")
        prompt = said(await chat.send("logistic"))
        assert "Ready to train" in prompt and "12 settings" in prompt and "60 s" in prompt
        labels = [o.label for o in chat.menu().options]
        assert labels == ["Train", "Change the model", "Train and tune"]
        start = len(chat.replies)
        await chat.press("Train and tune")
        report = await until_ended(chat, start)
        assert "Model trained" in report, report
        assert "Tuning: 9 of 9 settings tried" in report, report
        assert "tuned vs" in report and "with the defaults" in report
        assert "--model logistic --cv 5 --tune --json" in report
        (card,) = chat.services.models.list(chat.key.user_id)
        assert card.tuning is not None and card.tuning["tried"] == 9


async def test_typed_tune_and_retry_keep_tuning(tmp_path: Path) -> None:
    """A deferred file that lost its target fails the tuned job; Retry runs it tuned again."""
    root = tmp_path / "data"
    root.mkdir()
    good = "size,colour,price\n" + "".join(
        f"{i % 7},{'red' if i % 3 else 'blue'},{i * 1.5 + (i % 7)}\n" for i in range(80)
    )
    path = root / "shop.csv"
    path.write_text(good)
    async with ChatDriver(tmp_path / "var", jobs=True, local_path_roots=(root,)) as chat:
        await chat.send("/train")
        await chat.send("./shop.csv")
        await chat.press("Defer loading")
        await chat.send("size:int, colour:category, price:float")
        await chat.send("price")
        await chat.send("all")
        assert "Ready to train" in said(await chat.send("ridge"))
        path.write_text("size,colour\n1,red\n2,blue\n")  # the target column is gone
        start = len(chat.replies)
        await chat.send("tune")
        assert "The training failed" in await until_ended(chat, start)
        path.write_text(good)
        start = len(chat.replies)
        await chat.press("Retry")
        report = await until_ended(chat, start)
        assert "Tuning: 8 of 8 settings tried" in report, report
        assert "--model ridge --cv 5 --tune --json" in report
        # A plain Train afterwards is not tuned: the choice is made at each confirmation.
        await chat.send("/train")
        await chat.send("./shop.csv")
        await chat.press("Defer loading")
        await chat.send("size:int, colour:category, price:float")
        await chat.send("price")
        await chat.send("all")
        await chat.send("ridge")
        start = len(chat.replies)
        await chat.press("Train")
        report = await until_ended(chat, start)
        assert "Tuning:" not in report and "--tune" not in report, report
