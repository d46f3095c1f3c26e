"""Entry files written into a temp folder, so the engine is tested apart from the content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BODY = "A body long enough to say what it is and how to read it, with an example: 3 of 4."


def entry_file(entry_id: str, **fields: Any) -> str:
    meta: dict[str, Any] = {
        "id": entry_id,
        "title": entry_id.replace("-", " ").capitalize(),
        "kind": "concept",
        "tags": [],
        "aliases": [],
        "related": [],
        "short": f"The short answer about {entry_id}.",
    }
    meta.update(fields)
    body = meta.pop("body", BODY)
    lines = ["+++"]
    for name, value in meta.items():
        if isinstance(value, list):
            lines.append(f"{name} = [{', '.join(_q(v) for v in value)}]")
        else:
            lines.append(f"{name} = {_q(value)}")
    lines += ["+++", body, ""]
    return "\n".join(lines)


def _q(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def write_entries(folder: Path, entries: dict[str, dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for entry_id, fields in entries.items():
        (folder / f"{entry_id}.md").write_text(entry_file(entry_id, **fields), encoding="utf-8")
    return folder


# A small knowledge base with the shapes search must cope with: names with accents and
# hyphens, abbreviations, tags shared by several entries, aliases.
SMALL: dict[str, dict[str, Any]] = {
    "p-value": {
        "title": "p-value",
        "tags": ["inference", "hypothesis testing"],
        "aliases": ["p value", "significance probability"],
        "related": ["null-hypothesis", "one-way-anova"],
        "short": "How surprising the data would be if there were no effect.",
        "body": "The chance, under the null hypothesis, of a result at least this extreme.",
    },
    "null-hypothesis": {
        "title": "Null hypothesis",
        "tags": ["inference", "hypothesis testing"],
        "related": ["p-value"],
        "short": "The claim of no effect that a test tries to reject.",
        "body": "Written H0. A test asks how well the data agree with it.",
    },
    "one-way-anova": {
        "title": "One-way ANOVA",
        "kind": "test",
        "tags": ["group comparison", "hypothesis testing"],
        "related": ["p-value", "cramers-v"],
        "command": "/stats",
        "short": "Compares the means of three or more groups with an F test.",
        "body": "Splits the spread of the data into between-group and within-group parts.",
    },
    "cramers-v": {
        "title": "Cramér's V",
        "kind": "metric",
        "tags": ["effect size", "categorical"],
        "related": ["one-way-anova"],
        "short": "How strongly two categorical columns are associated, from 0 to 1.",
        "body": "Computed from the chi-square statistic of a contingency table.",
    },
    "standard-deviation": {
        "title": "Standard deviation",
        "tags": ["descriptive statistics", "spread"],
        "related": ["p-value"],
        "short": "The typical distance of values from their mean.",
        "body": "The square root of the variance, in the units of the data.",
    },
    "heteroscedasticity": {
        "title": "Heteroscedasticity",
        "kind": "pitfall",
        "tags": ["regression", "assumptions"],
        "related": ["standard-deviation"],
        "short": "Residuals whose spread changes with the fitted values.",
        "body": "Standard errors of ordinary least squares are then wrong.",
    },
    "roc-auc": {
        "title": "ROC AUC",
        "kind": "metric",
        "tags": ["classification", "metrics"],
        "aliases": ["area under the roc curve"],
        "related": ["p-value"],
        "short": "The chance that a random positive is ranked above a random negative.",
        "body": "0.5 is guessing, 1.0 is a perfect ranking of the classes.",
    },
}
