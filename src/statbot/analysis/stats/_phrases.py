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


def apart(x: float, y: float) -> tuple[str, str]:
    """``num`` of both, with more digits where 3 would print two different numbers alike
    (a sentence saying "higher" must not cite 5.00 against 5.00)."""
    a, b = num(x), num(y)
    digits = 4
    while a == b and x != y and digits <= 17:
        a, b = f"{x:.{digits}g}", f"{y:.{digits}g}"
        digits += 1
    return a, b


def _extreme(labels: list[str], which: str, value: str) -> str:
    if len(labels) == 1:
        return f"{which} in {labels[0]}: {value}"
    return f"{', '.join(labels[:-1])} and {labels[-1]} tie for the {which}, {value}"


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
    ta, tb = apart(ma, mb)
    return (
        f"The mean of {_of(what, a)} ({ta}) is {direction} that of {_of(what, b)} "
        f"({tb}); the difference is {out.verdict()} {out.tail('')}"
    )


def compare_ranks(
    what: str, a: str, b: str, groups: dict[str, dict[str, float]], out: Outcome
) -> str:
    ma, mb = groups[a]["median"], groups[b]["median"]
    r = out.effect.value if out.effect else 0.0
    ta, tb = apart(ma, mb)
    if r == 0:
        return (
            f"Values of {_of(what, a)} (median {ta}) tend to be neither higher nor lower than "
            f"those of {_of(what, b)} (median {tb}); the difference is {out.verdict()} "
            f"{out.tail('a t-test')}"
        )
    direction = "higher" if r > 0 else "lower"
    return (
        f"Values of {_of(what, a)} (median {ta}) tend to be {direction} than those of "
        f"{_of(what, b)} (median {tb}); the difference is {out.verdict()} "
        f"{out.tail('a t-test')}"
    )


def against_value(label: str, centre: float, kind: str, mu: float, out: Outcome) -> str:
    direction = "higher than" if centre > mu else "lower than" if centre < mu else "equal to"
    tc, _ = apart(centre, mu)
    tm = f"{mu:.15g}"  # the value the user typed, as typed (172.5, not 172)
    return (
        f"The {kind} of {label} ({tc}) is {direction} {tm}; the difference is "
        f"{out.verdict()} {out.tail('a t-test')}"
    )


def paired(a: str, b: str, diff: float, kind: str, out: Outcome) -> str:
    if diff == 0:
        return (
            f"Paired with {b}, {a} is neither higher nor lower on average ({kind} difference 0); "
            f"the difference is {out.verdict()} {out.tail('a paired t-test')}"
        )
    direction = "higher" if diff > 0 else "lower"
    return (
        f"Paired with {b}, {a} is on average ({kind} difference) {num(abs(diff))} {direction}; "
        f"the difference is {out.verdict()} {out.tail('a paired t-test')}"
    )


def k_groups(
    what: str, factor: str, groups: dict[str, dict[str, float]], kind: str, out: Outcome
) -> str:
    """Ties are said as ties ("a and b tie for the highest", "every group has the same
    median"): never "highest in X" when X is not alone at the top."""
    values = {g: groups[g][kind] for g in groups}
    hi, lo = max(values.values()), min(values.values())
    differ = "differ significantly" if out.p < ALPHA else "do not differ significantly"
    if hi == lo:
        where = f"every group has the same {kind}, {num(hi)}"
    else:
        t_hi, t_lo = apart(hi, lo)
        top = [g for g in groups if values[g] == hi]
        bottom = [g for g in groups if values[g] == lo]
        where = f"{_extreme(top, 'highest', t_hi)}; {_extreme(bottom, 'lowest', t_lo)}"
    return (
        f"The {kind}s of {what} {differ} between the {len(groups)} groups of {factor} "
        f"({where}) {out.tail('ANOVA')}"
    )


def association(a: str, b: str, out: Outcome) -> str:
    verdict = "are significantly associated" if out.p < ALPHA else "show no significant association"
    if out.reason and out.stat.startswith("Fisher"):
        tail = out.tail("chi-square")
    else:
        caveat = f"; {out.reason}" if out.reason else ""
        tail = f"{out.numbers()}{caveat}."
    return f"{a} and {b} {verdict} {tail}"
