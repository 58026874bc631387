"""Rules that can never be met, found before the study exists rather than after weeks of labels.

A rule the config sets that can never be met is refused at import, with the arithmetic: a gate
that needs more usable pairs than its calibration set can ever hold out, or a sign-off rule
asking for more decisive pairs than the study has pairs. Where only a default does not fit (a
small trial study under the default rules), the study is imported with a warning that says
which rule cannot be met and how to set it: a quick look at ten pairs needs no config file.
A study too small for its gate is imported with a warning too: it can still be signed off on
human labels, only no judge can pass the gate on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.config import StudyConfig
from reviewer.errors import InvalidInput, Problem


@dataclass(frozen=True)
class GateArithmetic:
    """How many calibration pairs the gate is decided on."""

    calibration: int
    held_out: int

    @property
    def deciding(self) -> int:
        """The held-out part when the config holds pairs out, else the whole calibration set."""
        return self.held_out or self.calibration

    def explain(self, cfg: StudyConfig) -> str:
        c = cfg.calibration
        if not self.held_out:
            return f"a calibration set of {self.calibration} pairs decides the gate"
        return (
            f"calibration.holdout_fraction = {c.holdout_fraction:g} of {self.calibration} "
            f"calibration pairs leaves round({c.holdout_fraction:g} x {self.calibration}) = "
            f"{self.held_out} held-out pairs to decide the gate on"
        )


def gate_arithmetic(cfg: StudyConfig, calibration_pairs: int) -> GateArithmetic:
    """The deciding part's size, as `reviewer.study.sampling.holdout_sample` draws it."""
    held_out = round(cfg.calibration.holdout_fraction * calibration_pairs)
    return GateArithmetic(calibration_pairs, held_out)


def check_rules(cfg: StudyConfig, pairs: int, calibration_pairs: int) -> list[str]:
    """Refuse (InvalidInput) rules that can never be met; return warnings for a study too small
    for its gate. `calibration_pairs` is the calibration set as drawn (capped at the study)."""
    problems = []
    configured = gate_arithmetic(cfg, cfg.calibration.size)
    need = cfg.gate.min_usable_pairs
    if configured.deciding < need:
        problems.append(
            Problem(
                "config",
                None,
                "gate.min_usable_pairs",
                f"= {need} can never be met: calibration.size = {cfg.calibration.size} and "
                f"{configured.explain(cfg)}; lower gate.min_usable_pairs to at most "
                f"{configured.deciding}, or raise calibration.size",
            )
        )
    warnings = []
    floor = cfg.signoff.min_decisive_pairs
    if pairs < floor:
        why = (
            f"= {floor} can never be met: the study has {pairs} pairs, so at most {pairs} "
            f"decisive ones; lower signoff.min_decisive_pairs to at most {pairs}, or import "
            "more pairs"
        )
        if "min_decisive_pairs" in cfg.signoff.model_fields_set:
            problems.append(Problem("config", None, "signoff.min_decisive_pairs", why))
        else:
            warnings.append(f"the default signoff.min_decisive_pairs {why}")
    if problems:
        raise InvalidInput(problems, what="study rules")
    actual = gate_arithmetic(cfg, calibration_pairs)
    if actual.deciding < need:
        warnings.append(
            f"no judge can pass the gate on this study: {actual.explain(cfg)}, fewer than "
            f"gate.min_usable_pairs = {need}; it can be signed off on human labels only"
        )
    return warnings
