"""/kb_search, /kb_get, /kb_stats and free-text questions, through the ChatDriver on the real
engine (issue 13). The knowledge base is the fixture one of tests/kb (the engine apart from the
content); tests/kb/test_entries.py covers the shipped entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.kb.fixtures import SMALL, write_entries

from statbot.engine.replies import Reply, ReplyKind
from statbot.kb import KnowledgeBase
from statbot.testing import ChatDriver


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture
async def kb_chat(tmp_path: Path) -> AsyncIterator[ChatDriver]:
    kb = KnowledgeBase.load(write_entries(tmp_path / "entries", SMALL), strict=True)
    async with ChatDriver(tmp_path / "var") as driver:
        driver.services.kb = kb  # type: ignore[misc]
        yield driver


async def test_search_offers_results_as_paged_buttons_and_opens_one(kb_chat: ChatDriver) -> None:
    replies = await kb_chat.send("/kb_search hypothesis testing")
    menu = kb_chat.menu()
    assert menu.kind is ReplyKind.CHOICES and menu.page_size == 5
    assert {o.id for o in menu.options} >= {"p-value", "null-hypothesis", "one-way-anova"}
    assert "3 entries match “hypothesis testing”, best first" in said(replies)
    text = said(await kb_chat.press("One-way ANOVA"))
    assert text.startswith("*One-way ANOVA* (test)") and "Try it: `/stats`" in text
    assert [o.id for o in kb_chat.menu().options] == ["p-value", "cramers-v"]  # related
    text = said(await kb_chat.press("Cramér"))
    assert "*Cramér's V* (metric)" in text
    assert await kb_chat.state() == ("kb_search", "browse")


async def test_typed_numbers_titles_and_new_searches_while_browsing(kb_chat: ChatDriver) -> None:
    await kb_chat.send("/kb_search p value")
    first = kb_chat.menu().options[0]
    assert first.id == "p-value"
    assert said(await kb_chat.send("1")).startswith("*p-value* (concept)")
    assert said(await kb_chat.send("standard deviation")).startswith("*Standard deviation*")
    assert "1 entry matches “hetroscedasticity”" in said(await kb_chat.send("hetroscedasticity"))
    assert kb_chat.menu().options[0].id == "heteroscedasticity"
    text = said(await kb_chat.send("zzzz qqqq"))
    assert "Nothing in the knowledge base matches “zzzz qqqq”" in text


async def test_kb_get_by_id_unknown_id_and_no_id(kb_chat: ChatDriver) -> None:
    text = said(await kb_chat.send("/kb_get null-hypothesis"))
    assert text.startswith("*Null hypothesis* (concept)")
    assert "The claim of no effect" in text and "Written H0" in text
    assert [o.id for o in kb_chat.menu().options] == ["p-value"]
    text = said(await kb_chat.send("/kb_get cramer"))
    assert "There is no entry with the id `cramer`" in text
    assert kb_chat.menu().options[0].id == "cramers-v"
    text = said(await kb_chat.send("/kb_get"))
    assert "Which entry?" in text
    assert said(await kb_chat.send("roc-auc")).startswith("*ROC AUC* (metric)")


async def test_free_text_questions_reach_the_knowledge_base_when_idle(
    kb_chat: ChatDriver,
) -> None:
    replies = await kb_chat.send("what is a p-value?")
    assert await kb_chat.state() == ("kb_search", "browse")
    assert kb_chat.menu().options[0].id == "p-value", said(replies)
    assert "The best match:\n*p-value* — How surprising" in said(replies)
    # a request for another conversation leaves the knowledge base for it
    await kb_chat.send("list models")
    assert (await kb_chat.state())[0] != "kb_search"


async def test_stats_counts_by_kind_and_tag_and_the_most_read(kb_chat: ChatDriver) -> None:
    text = said(await kb_chat.send("/kb_stats"))
    assert "The knowledge base has 7 entries: 3 concepts, 1 test, 2 metrics, 1 pitfall." in text
    assert "Tags with most entries: hypothesis testing 3, inference 2," in text
    assert "No entry has been read yet." in text
    assert await kb_chat.state() == (None, None)
    for command in ("/kb_get roc-auc", "/kb_get roc-auc", "/kb_get p-value"):
        await kb_chat.send(command)
    text = said(await kb_chat.send("/kb_stats"))
    assert "Most read: ROC AUC (2 reads), p-value (1 read)." in text
    assert [o.id for o in kb_chat.menu().options] == ["roc-auc", "p-value"]


async def test_read_counts_survive_a_restart(tmp_path: Path) -> None:
    kb = KnowledgeBase.load(write_entries(tmp_path / "entries", SMALL), strict=True)
    async with ChatDriver(tmp_path / "var") as chat:
        chat.services.kb = kb  # type: ignore[misc]
        await chat.send("/kb_get cramers-v")
        await chat.send("/kb_get cramers-v")
    async with ChatDriver(tmp_path / "var", first_update_id=100) as chat:
        chat.services.kb = kb  # type: ignore[misc]
        assert "Most read: Cramér's V (2 reads)." in said(await chat.send("/kb_stats"))


async def test_help_and_back_show_where_the_reader_was(kb_chat: ChatDriver) -> None:
    await kb_chat.send("/kb_get p-value")
    text = said(await kb_chat.send("/help"))
    assert "Press an entry to read it" in text and "*p-value* (concept)" in text
    assert "/kb_search — search the statistics knowledge base" in said(
        await kb_chat.send("/cancel") + await kb_chat.send("/help")
    )


async def test_the_shipped_entries_answer_a_question(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var") as chat:
        await chat.send("what is a p-value?")
        assert chat.menu().options[0].id == "p-value"


async def test_what_does_this_mean_explains_the_measures_a_result_shows(
    kb_chat: ChatDriver,
) -> None:
    from statbot.workflows.explain import LABEL, explain_reply

    result = Reply.say(
        "Test: *One-way ANOVA* — F = 12.1, p < 0.001, n 150.\nEffect size Cramér's V = 0.3."
    )
    [menu] = explain_reply(kb_chat.services.kb, [result, "Reproduce with:\n`statbot x`"])
    assert menu.text == "In plain words: One-way ANOVA, p-value, Cramér's V."
    [button] = menu.options
    assert (button.label, button.id) == (LABEL, "/kb_get one-way-anova p-value cramers-v")
    await kb_chat.send("/kb_search anova")  # the button works from an old menu, elsewhere
    text = said(await kb_chat.press_id(button.id, token="stale", shown=LABEL))
    assert text.startswith("*One-way ANOVA* — Compares the means")
    assert "*p-value* — How surprising" in text and "*Cramér's V* — How strongly" in text
    assert [o.id for o in kb_chat.menu().options] == ["one-way-anova", "p-value", "cramers-v"]
    assert said(await kb_chat.press("p-value")).startswith("*p-value* (concept)")
    assert explain_reply(kb_chat.services.kb, [Reply.say("Nothing measured here.")]) == []


async def test_a_stats_result_carries_the_button_and_the_typed_question_works(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var") as chat:
        await chat.send("/stats")
        await chat.upload(iris_csv)
        await chat.press("Test")
        await chat.send("petal_length")
        replies = await chat.send("species")
        menus = [r for r in replies if r.kind is ReplyKind.CHOICES]
        explain = next(r for r in menus if r.options[0].label == "What does this mean?")
        ids = explain.options[0].id.split()[1:]
        assert explain.options[0].id.startswith("/kb_get ") and "p-value" in ids, ids
        assert menus[-1] is not explain  # the workflow's own menu still comes last
        await chat.press("Done")
        text = said(await chat.send("what does this mean?"))
        assert "*p-value* — " in text and await chat.state() == ("kb_search", "browse")
        assert [o.id for o in chat.menu().options] == ids


async def test_opening_an_explanation_mid_analysis_reads_as_leaving_not_starting_a_task(
    tmp_path: Path, iris_csv: Path
) -> None:
    """Seen by hand in the sandbox: the button said "Leaving *statistics…* and starting *read a
    knowledge-base entry by its id*", and /cancel then "Cancelled *read a knowledge-base …*"."""
    async with ChatDriver(tmp_path / "var") as chat:
        await chat.send("/stats")
        await chat.upload(iris_csv)
        await chat.press("Test")
        await chat.send("petal_length")
        replies = await chat.send("species")
        explain = next(
            r
            for r in replies
            if r.kind is ReplyKind.CHOICES and r.options[0].label == "What does this mean?"
        )
        text = said(await chat.press_id(explain.options[0].id, shown="What does this mean?"))
        assert text.startswith("Leaving *statistics: describe, correlation, tests, regression*.\n")
        assert "starting" not in text.split("\n")[0]
        closed = said(await chat.send("/cancel"))
        assert closed == "Closed. Send a command when you want to start something."
