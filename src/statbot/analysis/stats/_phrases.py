"""The one plain-language sentence every hypothesis test result carries.

Numbers in sentences are rounded for reading (3 significant digits); the result objects keep
full precision. Each function returns exactly one sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from statbot.analysis.stats.effects import EffectSize

ALPHA = 0.05


def num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e6:
        text = f"{value:.3g}"
        return text if "e" not in text else f"{value:.0f}"
    return f"{value:.3g}"


def pval(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


@dataclass(frozen=True)
class Outcome:
    """What every sentence reports: p, the statistic as text, the effect, and a fallback reason."""

    p: float
    stat: str
    effect: EffectSize | None = None
    reason: str | None = None

    def verdict(self) -> str:
        return "statistically significant" if self.p < ALPHA else "not statistically significant"

    def numbers(self) -> str:
        e = self.effect
        eff = (
            ""
            if e is None
            else (f"; {e.name} = {num(e.value)}, 95% CI {num(e.ci_low)} to {num(e.ci_high)}")
        )
        return f"({self.stat}, {pval(self.p)}{eff})"

    def tail(self, instead_of: str) -> str:
        used = f", used instead of {instead_of} because {self.reason}" if self.reason else ""
        return f"{self.numbers()}{used}."


def _of(what: str, label: str) -> str:
    return f"{what} in {label}" if what else label


def compare_means(
    what: str, a: str, b: str, groups: dict[str, dict[str, float]], out: Outcome
) -> str:
    ma, mb = groups[a]["mean"], groups[b]["mean"]
    direction = "higher than" if ma > mb else "lower than" if ma < mb else "equal to"
    return (
        f"The mean of {_of(what, a)} ({num(ma)}) is {direction} that of {_of(what, b)} "
        f"({num(mb)}); the difference is {out.verdict()} {out.tail('')}"
    )


def compare_ranks(
    what: str, a: str, b: str, groups: dict[str, dict[str, float]], out: Outcome
) -> str:
    ma, mb = groups[a]["median"], groups[b]["median"]
    r = out.effect.value if out.effect else 0.0
    direction = "higher" if r > 0 else "lower" if r < 0 else "similar"
    return (
        f"Values of {_of(what, a)} (median {num(ma)}) tend to be {direction} than those of "
        f"{_of(what, b)} (median {num(mb)}); the difference is {out.verdict()} "
        f"{out.tail('a t-test')}"
    )


def against_value(label: str, centre: float, kind: str, mu: float, out: Outcome) -> str:
    direction = "higher than" if centre > mu else "lower than" if centre < mu else "equal to"
    return (
        f"The {kind} of {label} ({num(centre)}) is {direction} {num(mu)}; the difference is "
        f"{out.verdict()} {out.tail('a t-test')}"
    )


def paired(a: str, b: str, diff: float, kind: str, out: Outcome) -> str:
    direction = "higher" if diff > 0 else "lower"
    return (
        f"Paired with {b}, {a} is on average ({kind} difference) {num(abs(diff))} {direction}; "
        f"the difference is {out.verdict()} {out.tail('a paired t-test')}"
    )


def k_groups(
    what: str, factor: str, groups: dict[str, dict[str, float]], kind: str, out: Outcome
) -> str:
    order = sorted(groups, key=lambda g: groups[g][kind])
    lo, hi = order[0], order[-1]
    differ = "differ significantly" if out.p < ALPHA else "do not differ significantly"
    return (
        f"The {kind}s of {what} {differ} between the {len(groups)} groups of {factor} "
        f"(highest in {hi}: {num(groups[hi][kind])}, lowest in {lo}: {num(groups[lo][kind])}) "
        f"{out.tail('ANOVA')}"
    )


def association(a: str, b: str, out: Outcome) -> str:
    verdict = "are significantly associated" if out.p < ALPHA else "show no significant association"
    if out.reason and out.stat.startswith("Fisher"):
        tail = out.tail("chi-square")
    else:
        caveat = f"; {out.reason}" if out.reason else ""
        tail = f"{out.numbers()}{caveat}."
    return f"{a} and {b} {verdict} {tail}"
