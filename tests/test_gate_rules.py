"""The gate's rules through the production code: the case that made the first gate fail a good
judge by chance, the default rules and their texts, and old configs still loading and meaning
what they meant."""

from __future__ import annotations

import pytest
from conftest import DATA

from reviewer.analysis.calibration import calibrate
from reviewer.analysis.gate import decide_gate
from reviewer.analysis.outcomes import judge_outcomes
from reviewer.config import GateConfig, StudyConfig, load_config

FIRST_GATE_RULES = {"min_majority_agreement", "agreement_margin", "kappa_lower_bound_floor"}


def fifteen_of_fifteen(seed: int) -> tuple[StudyConfig, object]:
    """The case from the field: 15 held-out pairs, the candidate preferred on 12; three
    experts, one of whom calls three of the candidate's wins a tie; a judge that matches the
    expert majority on all 15, in both orders. The candidate's output is the longer one."""
    ids = [f"p{i:02d}" for i in range(15)]
    majority = {i: "candidate" if k < 12 else "baseline" for k, i in enumerate(ids)}
    labels = [
        {"pair_id": i, "annotator_id": who, "criteria_json": "{}",
         "preference": "tie" if who == "cy" and k < 3 else majority[i]}
        for k, i in enumerate(ids)
        for who in ("ana", "bo", "cy")
    ]  # fmt: skip
    rows = [
        {"pair_id": i, "presented": order, "preference": majority[i], "criteria_json": "{}"}
        for i in ids
        for order in ("candidate_first", "baseline_first")
    ]
    cfg = StudyConfig(seed=seed, gate=GateConfig(min_usable_pairs=15))
    lengths = dict.fromkeys(ids, (800, 400))
    metrics = calibrate(
        "held-out", set(ids), labels, judge_outcomes(rows), lengths, dict.fromkeys(ids, "s"), cfg
    )
    return cfg, metrics


@pytest.mark.parametrize("seed", range(8))
def test_a_judge_matching_15_of_15_passes_where_the_kappa_bound_failed_it(seed):
    cfg, m = fifteen_of_fifteen(seed)
    first = cfg.model_copy(
        update={"gate": GateConfig(min_usable_pairs=15, min_majority_agreement=0.8,
                                   agreement_margin=0.1, kappa_lower_bound_floor=0.2)}
    )  # fmt: skip
    # Resamples without a baseline-preferred pair (0.8^15 = 3.5% of them, more than the 2.5%
    # tail) leave a constant judge against humans who are not: kappa exactly 0.
    assert m.vs_humans_with_ties["kappa"].low == pytest.approx(0.0)
    old = decide_gate(m, first)
    assert not old.passed
    assert old.failures() == [
        "lower 95% bound of judge-human kappa (deprecated: kappa swings with the win share) = "
        "0.000, needs >= 0.200 (short by 0.200)"
    ]
    new = decide_gate(m, cfg)
    assert new.passed, new.failures()
    # The permutation p: the three baseline pairs are where the judge put them in 1 of
    # C(15, 3) = 455 shuffles.
    assert m.chance_p_value < 0.01
    assert [r.rule for r in new.rules] == [
        "usable_pairs", "beyond_chance", "agreement_vs_humans", "length_baseline",
        "position_consistency",
    ]  # fmt: skip


def test_the_default_rules_and_what_they_say():
    g = GateConfig()
    assert (g.max_chance_p_value, g.human_agreement_margin, g.length_baseline_margin) == (
        0.05,
        0.15,
        0.05,
    )
    assert (g.position_consistency_floor, g.min_usable_pairs) == (0.80, 50)
    assert all(getattr(g, key) is None for key in FIRST_GATE_RULES)
    _, m = fifteen_of_fifteen(0)
    texts = {r.rule: r.text for r in decide_gate(m, StudyConfig()).rules}
    assert texts["usable_pairs"] == "usable pairs = 15, needs >= 50 (short by 35)"
    assert texts["length_baseline"].startswith(
        "judge-human correlation r, against the length baseline 'the longer response wins' "
        "(picks the same side on every pair, counted as 0.000; margin 0.05) = "
    )
    assert (
        "judge agreement with each human label (humans among themselves: "
        in (texts["agreement_vs_humans"])
    )


def test_rules_can_be_turned_off_and_the_first_gate_rules_on():
    _, m = fifteen_of_fifteen(0)
    off = StudyConfig(
        gate=GateConfig(min_usable_pairs=1, human_agreement_margin=None,
                        length_baseline_margin=None, max_chance_p_value=1.0)
    )  # fmt: skip
    assert [r.rule for r in decide_gate(m, off).rules] == [
        "usable_pairs", "beyond_chance", "position_consistency",
    ]  # fmt: skip
    legacy = StudyConfig(gate=GateConfig(min_majority_agreement=0.9, agreement_margin=0.1))
    rules = {r.rule: r for r in decide_gate(m, legacy).rules}
    assert rules["majority_agreement"].passed and rules["majority_agreement"].value == 1.0
    assert "deprecated" in rules["kappa_vs_humans"].text
    assert "kappa_lower_bound" not in rules


def test_old_configs_load_and_keep_their_rules():
    cfg = load_config(DATA / "support_study.toml")
    assert (cfg.gate.min_majority_agreement, cfg.gate.agreement_margin) == (0.80, 0.10)
    assert (cfg.gate.kappa_lower_bound_floor, cfg.gate.min_usable_pairs) == (0.20, 12)
    # A config stored by the first version (every key spelled out) still validates.
    stored = {
        "agreement_margin": 0.1, "kappa_lower_bound_floor": 0.2,
        "position_consistency_floor": 0.8, "min_majority_agreement": 0.8,
        "min_usable_pairs": 15, "criterion_agreement_floor": {},
    }  # fmt: skip
    gate = GateConfig.model_validate(stored)
    assert gate.kappa_lower_bound_floor == 0.2 and gate.max_chance_p_value == 0.05
    _, m = fifteen_of_fifteen(0)
    rules = [r.rule for r in decide_gate(m, StudyConfig(gate=gate)).rules]
    assert {"majority_agreement", "kappa_vs_humans", "kappa_lower_bound"} <= set(rules)
