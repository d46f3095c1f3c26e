"""Deterministic parsing of free-text requests (no language model).

"train a random forest to predict price" → Intent("train", {"model": "random forest",
"target": "price"}); "describe it" / "analyze it" → stats/describe on the last dataset;
"what about correlation?" → stats/correlation; "now predict with it" → predict with the last
model; "what is a p-value?" / "explain cramér's v" / "which test should I use" → the knowledge
base (kb_search) with the question as its query. The workflow pre-fills what the intent carries
and asks only for what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MODEL_WORDS = (
    r"random forest|extra trees|gradient boosting|hist(?:ogram)? gradient boosting|"
    r"logistic regression|linear regression|ridge|lasso|knn|k-?nearest neighbou?rs|svm|"
    r"support vector machine|auto|rf|gbm|logistic|linear"
)
_TRAIN = re.compile(
    rf"^(?:please\s+)?(?:train|fit|build)\s+(?:an?\s+|the\s+)?(?:(?P<model>{_MODEL_WORDS})\s*)?"
    r"(?:model\s*)?(?:(?:to|that|which)\s+)?(?:predict(?:s|ing)?|for|on)\s+(?P<target>[\w .%-]+?)"
    r"(?:\s+(?:from|using|with)\s+(?P<features>.+))?\s*[.!?]*$",
    re.IGNORECASE,
)
_TRAIN_BARE = re.compile(
    rf"^(?:please\s+)?(?:train|fit|build)\s+(?:an?\s+|the\s+)?(?P<model>{_MODEL_WORDS})?\s*(?:model)?\s*[.!?]*$",
    re.IGNORECASE,
)
_PREDICT = re.compile(
    r"\b(?:now\s+)?predict(?:ions?)?\b(?:\s+(?:with|using)\s+(?P<model>.+?))?[.!?]*$", re.I
)
_STATS = {
    "describe": re.compile(
        r"\b(?:describe|summar(?:y|ise|ize)|analy[sz]e|statistics|stats)\b", re.I
    ),
    "correlation": re.compile(r"\bcorrelat(?:e|ion|ions)\b", re.I),
    "test": re.compile(r"\b(?:test|compare|difference|significan(?:t|ce))\b", re.I),
    "regression": re.compile(r"\b(?:regress(?:ion)?|ols|logit)\b", re.I),
}
_EXPLORE = re.compile(
    r"\b(?:explore|show (?:me )?(?:the )?data|head|columns|shape|missing)\b", re.I
)
# A question about a term or a method, not a request to run something: what the knowledge
# base answers. "what about correlation?" (a follow-up) and "is the difference significant?"
# (a test to run) are not of this shape.
_KB_QUESTION = re.compile(
    r"^(?:(?:so|ok|okay|and|hey|hi|please|sorry),?\s+)*(?:"
    r"what(?:'s|’s|s|\s+is|\s+are|\s+does|\s+do)\s+(?!my\b|your\b|it\b|this\s+data\b)|"
    r"define\b|definition\s+of\b|explain\b|meaning\s+of\b|tell\s+me\s+about\b|"
    r"how\s+(?:do|should|can|would)\s+(?:i|you|we|one)\s+(?:read|interpret|understand|choose|pick)\b|"
    r"how\s+to\s+(?:read|interpret|understand|choose|pick)\b|"
    r"when\s+(?:should|do|can|would)\s+(?:i|you|we|one)\s+use\b|when\s+to\s+use\b|"
    r"(?:which|what)\s+test\b|difference\s+between\b|why\s+(?:is|are|does|do|would|should)\b)",
    re.IGNORECASE,
)
_MODELS = re.compile(r"\b(?:my models|list models|models)\b", re.I)


@dataclass(frozen=True, slots=True)
class Intent:
    workflow: str
    slots: dict[str, str] = field(default_factory=dict)


def _strip_it(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip(".!?").strip()
    return None if value.lower() in ("", "it", "that", "this", "the model", "latest") else value


def parse_intent(text: str) -> Intent | None:
    t = " ".join(text.strip().split())
    if not t or t.startswith("/"):
        return None
    if _KB_QUESTION.match(t):
        return Intent("kb_search", {"query": t})
    match = _TRAIN.match(t)
    if match:
        slots = {"target": match.group("target").strip()}
        if match.group("model"):
            slots["model"] = match.group("model").lower()
        if match.group("features"):
            slots["features"] = match.group("features").strip()
        return Intent("train", slots)
    match = _TRAIN_BARE.match(t)
    if match:
        return Intent(
            "train", {"model": match.group("model").lower()} if match.group("model") else {}
        )
    match = _PREDICT.search(t)
    if match:
        model = _strip_it(match.group("model"))
        return Intent("predict", {"model": model} if model else {"model": "latest"})
    for analysis in ("correlation", "regression", "test", "describe"):
        if _STATS[analysis].search(t):
            return Intent("stats", {"analysis": analysis})
    if _MODELS.search(t):
        return Intent("models")
    if _EXPLORE.search(t):
        return Intent("explore")
    return None
