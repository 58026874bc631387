"""The gate between calibration and the full set: the study's rules applied to a calibration
of the deciding part, each with its value, threshold and shortfall.

The default rules are chosen so that they do not degenerate when one side wins most pairs, and
their operating characteristics are published (bench/gate_oc.py, simulated through this code):
- beyond chance: a permutation test of the judge-human correlation. Its chance of passing a
  judge unrelated to the humans (random, or always the same side) is at most its alpha at any
  win share and any number of pairs; a judge that gives one outcome everywhere has no
  correlation and fails, rather than failing or passing by the luck of a bootstrap;
- agreement with each human label not far below the humans' own (MT-Bench's comparison);
- a correlation with the humans above that of "the longer response wins" on the same pairs;
- verdicts that survive swapping the order; enough usable pairs.
Kappa's bootstrap lower bound, a rule of the first gate, is kept only for configs that set it:
with 15 pairs and a candidate that wins 80% of them, resamples without a baseline-preferred
pair give kappa 0, and the rule failed a judge that matched the experts on 15 of 15.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from reviewer.analysis.calibration import CalibrationOut
from reviewer.config import StudyConfig


class RuleOut(BaseModel):
    rule: str = Field(
        description="usable_pairs | beyond_chance | agreement_vs_humans | length_baseline | "
        "position_consistency; rules of the first gate, when a config sets them: "
        "majority_agreement | kappa_vs_humans | kappa_lower_bound."
    )
    value: float | None = Field(description="Measured; null when not measurable (fails).")
    threshold: float = Field(
        description="beyond_chance (a p-value) must be at most this; every other rule at least."
    )
    passed: bool
    text: str = Field(description="The rule, the value and by how much it missed, for people.")


class GateOut(BaseModel):
    part: str
    passed: bool
    rules: list[RuleOut]
    human_only_criteria: list[str] = Field(
        default_factory=list,
        description="Criteria below their floor: the report keeps them human-only.",
    )

    def failures(self) -> list[str]:
        return [r.text for r in self.rules if not r.passed]


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:.3f}"


def _rule(
    name: str, value: float | None, threshold: float, what: str, *, at_least: bool
) -> RuleOut:
    """One gate rule: passed or not, and in words by how much it missed."""
    ok = value is not None and (value >= threshold if at_least else value <= threshold)
    word = ">=" if at_least else "<="
    if value is None:
        text = f"{what}: not measurable on these pairs (needs {word} {_num(threshold)})"
    else:
        text = f"{what} = {_num(value)}, needs {word} {_num(threshold)}"
        if not ok:
            text += f" ({'short' if at_least else 'over'} by {_num(abs(value - threshold))})"
    return RuleOut(rule=name, value=value, threshold=threshold, passed=ok, text=text)


def decide_gate(metrics: CalibrationOut, cfg: StudyConfig) -> GateOut:
    """The study's gate rules applied to one calibration, each with its value and shortfall."""
    g = cfg.gate
    rules = [
        _rule("usable_pairs", metrics.usable, g.min_usable_pairs, "usable pairs", at_least=True),
        _beyond_chance(metrics, g.max_chance_p_value),
    ]
    if g.human_agreement_margin is not None:
        rules.append(_versus_human_agreement(metrics, g.human_agreement_margin))
    if g.length_baseline_margin is not None:
        rules.append(_versus_length(metrics, g.length_baseline_margin))
    consistency = None if metrics.flip_rate is None else 1 - metrics.flip_rate
    rules.append(
        _rule(
            "position_consistency", consistency, g.position_consistency_floor,
            "share of pairs whose verdict survives swapping the order", at_least=True,
        )
    )  # fmt: skip
    rules += _first_gate_rules(metrics, cfg)
    human_only = sorted(
        name
        for name, floor in g.criterion_agreement_floor.items()
        if (m := metrics.by_criterion.get(name)) is None or m.value is None or m.value < floor
    )
    return GateOut(
        part=metrics.part,
        passed=all(r.passed for r in rules),
        rules=rules,
        human_only_criteria=human_only,
    )


def _beyond_chance(m: CalibrationOut, alpha: float) -> RuleOut:
    r = None if m.correlation is None else m.correlation.value
    what = (
        "chance that a judge unrelated to the humans agrees with them as much (permutation "
        + ("test; the judge gave the same outcome on every pair, so it carries no information)"
           if r is None else f"test of the judge-human correlation r = {r:.3f})")
    )  # fmt: skip
    return _rule("beyond_chance", m.chance_p_value, alpha, what, at_least=False)


def _versus_human_agreement(m: CalibrationOut, margin: float) -> RuleOut:
    """Non-inferiority: the judge agrees with each human label about as often as the humans
    agree with each other (MT-Bench's comparison), within the margin."""
    human = m.humans.get("agreement")
    judge = m.vs_humans_with_ties["agreement"].value
    what = "judge agreement with each human label"
    if human is None or human.value is None:
        return _rule("agreement_vs_humans", None, margin, what + " vs the humans'", at_least=True)
    return _rule(
        "agreement_vs_humans", judge, human.value - margin,
        f"{what} (humans among themselves: {human.value:.3f}, margin {margin:g})", at_least=True,
    )  # fmt: skip


def _versus_length(m: CalibrationOut, margin: float) -> RuleOut:
    """The judge must relate to the humans better than "the longer response wins" does (a rule
    that picks one side everywhere, or does worse than chance, counts as 0)."""
    base = m.length_baseline
    judge = None if m.correlation is None else m.correlation.value
    length_r = None if base is None else base.correlation.value
    note = "picks the same side on every pair" if length_r is None else f"r = {length_r:.3f}"
    return _rule(
        "length_baseline", judge, max(length_r or 0.0, 0.0) + margin,
        f"judge-human correlation r, against the length baseline 'the longer response wins' "
        f"({note}, counted as {max(length_r or 0.0, 0.0):.3f}; margin {margin:g})",
        at_least=True,
    )  # fmt: skip


def _first_gate_rules(m: CalibrationOut, cfg: StudyConfig) -> list[RuleOut]:
    """The rules of signoff's first gate, for configs that still set them."""
    g, rules = cfg.gate, []
    if g.min_majority_agreement is not None:
        rules.append(
            _rule(
                "majority_agreement", m.decisive_agreement.value, g.min_majority_agreement,
                "agreement with the human majority on decisive pairs", at_least=True,
            )
        )  # fmt: skip
    deprecated = " (deprecated: kappa swings with the win share)"
    judge_kappa = m.vs_humans_with_ties["kappa"]
    if g.agreement_margin is not None:
        human_kappa = m.humans.get("kappa")
        if human_kappa is not None and human_kappa.value is not None:
            rules.append(
                _rule(
                    "kappa_vs_humans", judge_kappa.value, human_kappa.value - g.agreement_margin,
                    f"judge-human kappa (humans' own: {human_kappa.value:.3f}, margin "
                    f"{g.agreement_margin:g}){deprecated}", at_least=True,
                )
            )  # fmt: skip
        else:
            rules.append(
                _rule(
                    "kappa_vs_humans", None, g.agreement_margin,
                    "judge-human kappa vs the humans'" + deprecated, at_least=True,
                )
            )  # fmt: skip
    if g.kappa_lower_bound_floor is not None:
        rules.append(
            _rule(
                "kappa_lower_bound", judge_kappa.low, g.kappa_lower_bound_floor,
                "lower 95% bound of judge-human kappa" + deprecated, at_least=True,
            )
        )  # fmt: skip
    return rules
