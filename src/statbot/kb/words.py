"""How search reads words: folding, the words a question is made of, and synonyms.

A person types "what's Cramer's V?" or "How do I read an ANOVA"; the index holds "Cramér's V"
and "One-way ANOVA". Both sides are folded the same way (lower case, accents removed, every
run of other characters a separator — what SQLite's unicode61 tokenizer does), and the words
that only make a question a question are dropped before the rest is searched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
# "what does X mean?": "mean" asks for a meaning here, it is not the average.
_MEANING = re.compile(r"\b(?:does|do|did)\b(.+?)\b(?:mean|means)\s*[?.!]*\s*$")

# Words that carry no subject in a question. Kept short on purpose: "two", "not" and "test"
# are not here, nor is "mean" (it is an entry; "what does X mean" is handled above).
_STOP_TEXT = """
a an the is are was were be been being am what whats which who whom whose how why when
where do does did done doing i im me my mine we our us you your yours it its this that
these those of to in on for with about and or should can could would will shall may might
must tell explain explained define definition meaning please use used using there here
than then vs versus if so any some from by as at into onto s ll re ve give show know
want need get got sort way isnt dont doesnt
"""
# "t", "type" and "kind" look like stop words but are parts of names ("t-test", "type I error").
STOPWORDS = frozenset(_STOP_TEXT.split())

# Two-way synonyms: a query naming one phrase of a group also searches the others. Entries'
# own aliases are indexed with their titles; this table holds what spans entries or what
# nobody writes in an entry ("sd", "ttest").
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("anova", "analysis of variance"),
    ("sd", "standard deviation", "std"),
    ("se", "standard error", "sem"),
    ("auc", "area under the curve", "roc auc"),
    ("ci", "confidence interval"),
    ("ols", "ordinary least squares", "least squares"),
    ("r2", "r squared", "coefficient of determination"),
    ("ttest", "t test"),
    ("chi2", "chi square", "chisquare", "chi squared"),
    ("iqr", "interquartile range"),
    ("knn", "k nearest neighbors", "nearest neighbours"),
    ("svm", "support vector machine"),
    ("rf", "random forest"),
    ("gbm", "gradient boosting", "xgboost"),
    ("cv", "cross validation", "k fold"),
    ("vif", "variance inflation factor"),
    ("rmse", "root mean squared error", "root mean square error"),
    ("mae", "mean absolute error"),
    ("mape", "mean absolute percentage error"),
    ("hsd", "tukey"),
    ("dof", "df", "degrees of freedom"),
    ("average", "mean"),
    ("significance", "significant", "p value"),
    ("logit", "logistic regression"),
    ("fpr", "false positive", "type i error"),
    ("false negative", "type ii error"),
    ("sensitivity", "recall", "true positive rate"),
    ("ppv", "precision"),
    ("nonparametric", "non parametric", "distribution free"),
    ("heteroskedasticity", "heteroscedasticity"),
    ("normality", "normal distribution", "gaussian", "bell curve"),
)


# Greek letters as people say them: a query "ρ" or "η²" searches "rho", "eta 2" (the entries
# spell their symbols out in their aliases; the word pattern above keeps only a-z and 0-9).
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta",
    "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "π": "pi", "ρ": "rho",
    "σ": "sigma", "ς": "sigma", "τ": "tau", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents, Greek letters spelled: "Cramér's V" → "cramer's v",
    "η²" → " eta 2"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(
        f" {_GREEK[c]} " if c in _GREEK else c for c in decomposed if not unicodedata.combining(c)
    )


def words(text: str) -> list[str]:
    """The tokens SQLite's unicode61 tokenizer would see in ``text``."""
    return _WORD.findall(fold(text))


def subject_words(text: str) -> list[str]:
    """What a question asks about: "What does a p-value mean?" → ["p", "value"]."""
    folded = fold(text).strip()
    meaning = _MEANING.search(folded)
    if meaning:
        folded = folded[: meaning.start()] + meaning.group(1)
    return [w for w in _WORD.findall(folded) if w not in STOPWORDS]


def key(text: str) -> str:
    """A name reduced to its subject words, to compare a query with titles and tags."""
    return " ".join(subject_words(text))


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(words(text))


# first word → (phrase, the other phrases of its group)
SYNONYMS: dict[str, list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]] = {}
for _group in SYNONYM_GROUPS:
    _phrases = tuple(_phrase(p) for p in _group)
    for _p in _phrases:
        SYNONYMS.setdefault(_p[0], []).append((_p, tuple(q for q in _phrases if q != _p)))


def synonyms_in(tokens: Sequence[str]) -> list[tuple[str, ...]]:
    """Phrases to search besides ``tokens``: the synonyms of every phrase of the table that
    occurs in them, as consecutive words."""
    found: list[tuple[str, ...]] = []
    for i, token in enumerate(tokens):
        for phrase, others in SYNONYMS.get(token, ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                found += [o for o in others if o not in found]
    return found
