"""Search on fixture entries: names first, question words, synonyms, prefixes, typos."""

from __future__ import annotations

import pytest
from tests.kb.fixtures import SMALL, write_entries

from statbot.kb import KnowledgeBase


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return KnowledgeBase.load(write_entries(tmp_path_factory.mktemp("kb"), SMALL), strict=True)


def first(kb: KnowledgeBase, query: str, n: int = 1) -> list[str]:
    return [h.entry.id for h in kb.search(query, limit=n)]


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("what is a p-value?", "p-value"),
        ("What does a p value mean", "p-value"),
        ("explain the null hypothesis please", "null-hypothesis"),
        ("Cramér's V", "cramers-v"),
        ("cramers v", "cramers-v"),
        ("significance probability", "p-value"),  # an alias
        ("area under the roc curve", "roc-auc"),
        ("how do I read a one-way ANOVA", "one-way-anova"),
    ],
)
def test_questions_find_what_they_name(kb: KnowledgeBase, query: str, expect: str) -> None:
    assert first(kb, query) == [expect]


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("anova", "one-way-anova"),
        ("analysis of variance", "one-way-anova"),
        ("sd", "standard-deviation"),
        ("what is the auc", "roc-auc"),
        ("heteroskedasticity", "heteroscedasticity"),
    ],
)
def test_synonyms(kb: KnowledgeBase, query: str, expect: str) -> None:
    assert first(kb, query) == [expect]


@pytest.mark.parametrize(
    ("query", "expect"),
    [("heterosc", "heteroscedasticity"), ("hypoth", "null-hypothesis"), ("cram", "cramers-v")],
)
def test_a_word_being_typed_matches_as_a_prefix(kb: KnowledgeBase, query: str, expect: str) -> None:
    assert expect in first(kb, query, 3)


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("hetroscedasticity", "heteroscedasticity"),  # a letter missing
        ("standard deviaton", "standard-deviation"),
        ("nul hypotesis", "null-hypothesis"),
        ("cramres v", "cramers-v"),  # two letters swapped
    ],
)
def test_typos_are_corrected_against_the_vocabulary(
    kb: KnowledgeBase, query: str, expect: str
) -> None:
    assert first(kb, query) == [expect]


def test_an_exact_tag_lists_every_entry_carrying_it_first(kb: KnowledgeBase) -> None:
    tagged = {i for i, f in SMALL.items() if "hypothesis testing" in f["tags"]}
    assert set(first(kb, "hypothesis testing", len(tagged))) == tagged


def test_words_that_name_nothing_find_nothing(kb: KnowledgeBase) -> None:
    assert kb.search("what is it?") == []
    assert kb.search("zzzz qqqq") == []
    assert kb.search("") == []


def test_quotes_and_operators_in_a_query_are_just_words(kb: KnowledgeBase) -> None:
    for query in ('"p-value', "NEAR(p value)", "p* OR", "cramér AND -v", "value:"):
        assert kb.search(query) is not None  # no FTS5 syntax error reaches the user
