"""The decision rule of schema 2: three tie rules, anytime-valid intervals, 'both bad', flagged
pairs and a planned sample size, on studies whose answers are worked out independently."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from conftest import DATA, pair, write_jsonl
from scipy import integrate, stats
from statsmodels.stats.proportion import proportion_confint

from reviewer.analysis.anytime import BET_FRACTIONS, PRIOR_STRENGTH
from reviewer.analysis.tie_rules import anytime_bounds, items_to_decide, threshold_test
from reviewer.config import SignoffConfig, StudyConfig


def study(cli, tmp_path, labels: list[dict], config: str = "", strata=None) -> None:
    """Pairs p000... (stratum from `strata`, else routine) and one CSV of label rows."""
    strata = strata or {}
    ids = sorted({row["pair_id"] for row in labels})
    rows = [pair(i, id=pid, stratum=strata.get(pid, "routine")) for i, pid in enumerate(ids)]
    (tmp_path / "c.toml").write_text(config)
    pairs = write_jsonl(tmp_path / "p.jsonl", rows)
    assert cli("import", pairs, "-s", "s", "--config", tmp_path / "c.toml").code == 0
    fields = ["pair_id", "annotator", "preference", "both_bad", "flag_reason", "submitted_at"]
    with (tmp_path / "l.csv").open("w", newline="") as f:
        out = csv.DictWriter(f, fields)
        out.writeheader()
        out.writerows({"annotator": "a", "both_bad": "false"} | row for row in labels)
    assert cli("labels", "import", tmp_path / "l.csv", "-s", "s").code == 0


def items(wins: int, ties: int, losses: int, start: int = 0, **extra) -> list[dict]:
    """One label per item: `wins` candidate, then ties, then baseline."""
    prefs = ["candidate"] * wins + ["tie"] * ties + ["baseline"] * losses
    return [{"pair_id": f"p{start + i:03d}", "preference": p} | extra for i, p in enumerate(prefs)]


def report(cli, fmt: str = "json"):
    r = cli("report", "-s", "s", "--format", fmt, "--resamples", "200")
    assert r.code == 0, r.err
    return json.loads(r.out) if fmt == "json" else r.out


def mixture(s: float, n: float, p: float, center: float) -> float:
    """The one-sided beta-binomial mixture at p, by numerical integration (no incomplete beta):
    the average over the Beta prior restricted to p' >= p of the likelihood ratio."""
    a, b = PRIOR_STRENGTH * center, PRIOR_STRENGTH * (1 - center)
    prior = stats.beta(a, b)

    def ratio(q: float) -> float:
        return math.exp(s * math.log(q / p) + (n - s) * math.log((1 - q) / (1 - p)))

    num = integrate.quad(lambda q: ratio(q) * prior.pdf(q), p, 1, limit=200, epsabs=0)[0]
    return num / prior.sf(p)


def dkelly(w: float, t: float, l_: float, m: float) -> float:
    """The dKelly capital at m, as a plain average of products."""
    return float(
        np.mean([(1 + g * (1 - m) / m) ** w * (1 + g * (0.5 - m) / m) ** t * (1 - g) ** l_
                 for g in BET_FRACTIONS])
    )  # fmt: skip


def test_demo_shows_all_three_rules_and_ties_are_not_wins(cli):
    # The sample study: 15 wins, 19 ties, 6 losses over 40 items (README, the issue).
    assert cli("import", DATA / "support_pairs.jsonl", "-s", "s", "--config",
               DATA / "support_study.toml").code == 0  # fmt: skip
    assert cli("labels", "import", DATA / "sample_labels.csv", "-s", "s").code == 0
    rep = report(cli)
    assert rep["schema_version"] == 2
    w = rep["humans"]["win_rate"]
    rules = w["by_tie_rule"]
    assert (rules["not_a_win"]["score"], rules["not_a_win"]["comparisons"]) == (15, 40)
    assert rules["not_a_win"]["rate"] == 0.375
    assert (rules["not_a_win"]["low"], rules["not_a_win"]["high"]) == pytest.approx(
        proportion_confint(15, 40, method="wilson")
    )
    assert rules["half"]["rate"] == pytest.approx(24.5 / 40)
    # Schema 1's fields keep their meaning: decisive-only, Wilson.
    assert (w["rate"], w["low"], w["high"]) == pytest.approx(
        (15 / 21, *proportion_confint(15, 21, method="wilson"))
    )
    assert rules["exclude"]["rate"] == pytest.approx(w["rate"])
    # The bootstrap for 'half' agrees with the normal approximation to within 0.03.
    y = np.array([1] * 15 + [0.5] * 19 + [0] * 6)
    half_width = 1.96 * y.std() / math.sqrt(40)
    assert rules["half"]["low"] == pytest.approx(y.mean() - half_width, abs=0.03)
    v = rep["verdict"]
    assert (v["tie_rule"], v["guarantee"]) == ("not_a_win", "anytime-valid")
    assert v["decision"] == "BLOCKED"
    assert "38% of 40 comparisons (ties count as not a win; anytime-valid 95% CI" in v["reason"]
    for fmt in ("md", "html"):
        text = report(cli, fmt)
        assert "however often the verdict is read" in text
        assert "ties count half" in text and "ties excluded" in text
        assert "0 of 40 items" in text  # the both-bad share


@pytest.mark.parametrize(
    ("wins", "ties", "losses", "rule"),
    [(15, 19, 6, "not_a_win"), (80, 10, 20, "exclude"), (45, 30, 25, "half"), (5, 0, 0, "half")],
)
def test_anytime_bounds_sit_where_the_evidence_crosses_one_over_alpha(wins, ties, losses, rule):
    thr, target = 0.6, 1 / 0.025
    low, high = (float(b) for b in anytime_bounds(rule, wins, ties, losses, thr, 0.95))
    if rule == "half":
        assert dkelly(wins, ties, losses, low) == pytest.approx(target, rel=1e-6)
        if losses + ties:
            assert dkelly(losses, ties, wins, 1 - high) == pytest.approx(target, rel=1e-6)
        else:  # all wins: no evidence that the rate is below any m < 1
            assert high == 1
    else:
        s, n = (wins, wins + ties + losses) if rule == "not_a_win" else (wins, wins + losses)
        assert mixture(s, n, low, thr) == pytest.approx(target, rel=1e-5)
        assert mixture(n - s, n, 1 - high, 1 - thr) == pytest.approx(target, rel=1e-5)
    # Anytime-valid intervals are wider than a one-read interval on the same counts.
    if rule != "half":
        wilson = proportion_confint(s, n, method="wilson")
        assert low < wilson[0] and high > wilson[1]


def test_decision_is_the_bounds_against_the_threshold():
    # threshold_test evaluates the evidence at the threshold; the report prints the bounds.
    # They agree on every count (the evidence is monotone in the null rate).
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 120, size=(300, 3))
    for rule in ("not_a_win", "half", "exclude"):
        rules = SignoffConfig(ties=rule, min_decisive_pairs=1)
        test = threshold_test(counts[:, 0], counts[:, 1], counts[:, 2], rules)
        low, high = anytime_bounds(rule, counts[:, 0], counts[:, 1], counts[:, 2], 0.6, 0.95)
        expected = np.where(low > 0.6, 1, np.where(high < 0.6, -1, 0))
        assert (test == expected).all(), rule
        assert set(np.unique(test)) == {-1, 0, 1}


def test_default_rule_holds_80_of_110_that_the_decisive_rule_signs_off(cli, tmp_path):
    labels = items(80, 10, 20)
    study(cli, tmp_path, labels)
    v = report(cli)["verdict"]
    # 80 / 110 = 73%; anytime-valid lower bound 0.588 < 0.60 (checked above by the mixture).
    assert v["decision"] == "NOT ENOUGH EVIDENCE"
    assert v["reason"].startswith("candidate preferred on 73% of 110 comparisons")
    assert "anytime-valid 95% CI 59%-" in v["reason"]
    more = v["more_items_needed"]
    assert more and f"about {more} more pairs would likely decide it" in v["evidence_text"]
    # The projection: at the observed shares, `more` items decide it and one fewer does not.
    rules = SignoffConfig()
    shares = np.array([80, 10, 20]) / 110
    assert threshold_test(*(shares * (110 + more)), rules) == 1
    assert threshold_test(*(shares * (110 + more - 1)), rules) == 0
    assert items_to_decide(80, 10, 20, rules) == more
    r = cli("check", "-s", "s", "--resamples", "20")
    assert r.code == 1 and r.out.startswith("NOT ENOUGH EVIDENCE: ")
    assert f"about {more} more pairs would likely decide it" in r.out


def test_a_stratum_floor_follows_the_tie_rule(cli, tmp_path):
    # Stratum 'x': 2 wins, 6 ties, 0 losses: 100% of decisive pairs, 25% of comparisons.
    labels = items(60, 0, 10) + items(2, 6, 0, start=100)
    strata = {f"p{i:03d}": "x" for i in range(100, 108)}
    study(cli, tmp_path, labels, strata=strata)
    rep = report(cli)
    assert rep["verdict"]["decision"] == "BLOCKED"
    assert (
        "stratum 'x' collapses: candidate preferred on 25% of 8 comparisons"
        in (rep["verdict"]["reason"])
    )
    assert rep["humans"]["worst_stratum"] == "x"
    cli("import", tmp_path / "p.jsonl", "-s", "t", "--config", _toml(tmp_path, 'ties = "exclude"'))
    (tmp_path / "l2.csv").write_text((tmp_path / "l.csv").read_text())
    cli("labels", "import", tmp_path / "l2.csv", "-s", "t")
    rep = json.loads(cli("report", "-s", "t", "--format", "json", "--resamples", "20").out)
    assert "collapses" not in rep["verdict"]["reason"]
    assert rep["verdict"]["tie_rule"] == "exclude"


def _toml(tmp_path, line: str):
    path = tmp_path / "other.toml"
    path.write_text(f"[signoff]\n{line}\n")
    return path


def test_both_bad_is_counted_shown_and_capped(cli, tmp_path):
    # 40 wins, 10 'both bad' ties (stratum y), 5 losses: 10 / 55 = 18% both bad.
    labels = items(40, 0, 5) + items(0, 10, 0, start=100, both_bad="true")
    strata = {f"p{i:03d}": "y" for i in range(100, 110)}
    study(cli, tmp_path, labels, "[signoff]\nmax_both_bad_share = 0.15\n", strata)
    rep = report(cli)
    q = rep["quality"]
    assert (q["both_bad_items"], q["items"], q["both_bad_labels"]) == (10, 55, 10)
    assert q["both_bad_share"] == pytest.approx(10 / 55)
    assert rep["humans"]["by_stratum"]["y"]["both_bad"] == 10
    assert rep["humans"]["by_stratum"]["routine"]["both_bad_share"] == 0
    assert rep["humans"]["win_rate"]["tie"] == 10  # both bad is still a tie in the win rate
    assert rep["verdict"]["decision"] == "BLOCKED"
    assert "18% of 55 items are 'both bad'" in rep["verdict"]["reason"]
    assert "above the cap of 15%" in rep["verdict"]["reason"]
    assert "10 of 55 items (18%; 10 of 55 labels); cap 15%" in report(cli, "md")


def test_both_bad_goes_by_majority_of_an_items_labels(cli, tmp_path):
    labels = [
        {"pair_id": "p000", "annotator": "a", "preference": "tie", "both_bad": "true"},
        {"pair_id": "p000", "annotator": "b", "preference": "tie", "both_bad": "true"},
        {"pair_id": "p000", "annotator": "c", "preference": "candidate"},
        {"pair_id": "p001", "annotator": "a", "preference": "tie", "both_bad": "true"},
        {"pair_id": "p001", "annotator": "b", "preference": "baseline"},
    ]
    study(cli, tmp_path, labels)
    q = report(cli)["quality"]
    # p000: 2 of 3 labels say both bad (majority); p001: 1 of 2 (no majority).
    assert (q["both_bad_items"], q["items"], q["both_bad_labels"], q["labels"]) == (1, 2, 3, 5)


def test_flagged_pairs_are_listed_and_may_be_left_out(cli, tmp_path):
    flagged = items(0, 0, 3, start=100, flag_reason="prompt leaks the answer")
    labels = items(30, 0, 5) + flagged
    study(cli, tmp_path, labels, "[signoff]\nexclude_flagged = true\n")
    rep = report(cli)
    q = rep["quality"]
    assert [f["pair_id"] for f in q["flagged"]] == ["p100", "p101", "p102"]
    assert q["flagged"][0] == {
        "pair_id": "p100",
        "stratum": "routine",
        "annotator": "a",
        "reason": "prompt leaks the answer",
        "outcome": "baseline",
    }
    assert (q["flagged_items"], q["excluded_items"], q["exclude_flagged"]) == (3, 3, True)
    assert rep["humans"]["win_rate"]["items"] == 35 and rep["humans"]["win_rate"]["baseline"] == 5
    md = report(cli, "md")
    assert "## Flagged pairs" in md and "prompt leaks the answer" in md
    assert "left out of the win rates (3 items)" in md


def test_planned_pairs_waits_then_reads_the_fixed_n_interval_once(cli, tmp_path):
    # Labeled one a minute: 29 wins and 11 losses in the first 40 (the planned sample), then
    # 10 more wins. Wilson on 29/40 straddles 60%; on all 39/50 it would clear it.
    prefs = ["candidate"] * 29 + ["baseline"] * 11 + ["candidate"] * 10
    rows = [
        f"p{i:03d},a,{p},2026-01-01T10:{i:02d}:00" for i, p in enumerate(prefs)
    ]  # fmt: skip
    (tmp_path / "c.toml").write_text("[signoff]\nplanned_pairs = 40\n")
    pairs = write_jsonl(tmp_path / "p.jsonl", [pair(i, id=f"p{i:03d}") for i in range(50)])
    assert cli("import", pairs, "-s", "s", "--config", tmp_path / "c.toml").code == 0
    head = "pair_id,annotator,preference,submitted_at\n"
    (tmp_path / "l1.csv").write_text(head + "\n".join(rows[:30]) + "\n")
    assert cli("labels", "import", tmp_path / "l1.csv", "-s", "s").code == 0
    v = report(cli)["verdict"]
    assert v["decision"] == "NOT ENOUGH EVIDENCE" and v["guarantee"] == "fixed-n"
    assert "30 of the 40 planned pairs are labeled" in v["reason"]
    assert v["more_items_needed"] == 10 and not v["enough_evidence"]
    assert "10 more to label before the verdict is read" in v["evidence_text"]

    (tmp_path / "l2.csv").write_text(head + "\n".join(rows[30:]) + "\n")
    assert cli("labels", "import", tmp_path / "l2.csv", "-s", "s").code == 0
    rep = report(cli)
    w, v = rep["humans"]["win_rate"], rep["verdict"]
    assert (w["items"], w["candidate"], rep["quality"]["beyond_planned"]) == (40, 29, 10)
    low, high = proportion_confint(29, 40, method="wilson")
    assert low < 0.6 < high and proportion_confint(39, 50, method="wilson")[0] > 0.6
    assert (w["by_tie_rule"]["not_a_win"]["low"], w["by_tie_rule"]["not_a_win"]["high"]) == (
        pytest.approx((low, high))
    )
    assert v["decision"] == "NOT ENOUGH EVIDENCE" and v["enough_evidence"]
    assert f"fixed-n Wilson 95% CI {low:.0%}-{high:.0%}" in v["reason"]
    assert "more labels do not change it" in v["evidence_text"]
    assert "items labeled after the first 40 are not counted" in v["guarantee_text"]


def test_plan_prints_items_and_labels_and_json(cli):
    r = cli("plan", "--expected-rate", "0.75", "--judge-agreement", "0.9", "--runs", "300")
    assert r.code == 0, r.err
    assert "humans, anytime-valid" in r.out and "humans + judge (A = 0.90)" in r.out
    data = cli("plan", "--expected-rate", "0.75", "--runs", "300", "--json").json()
    anytime, fixed = data["rows"]
    assert fixed["items"] < anytime["items"] < 3 * fixed["items"]
    assert anytime["power"] >= 0.8
    # Default calibration set (100 pairs) x 2 annotators, then 1 label per other pair.
    calibration = min(StudyConfig().calibration.size, anytime["items"])
    assert StudyConfig().calibration.size == 100
    assert anytime["labels"] == calibration * 2 + (anytime["items"] - calibration)
    bad = cli("plan", "--expected-rate", "0.9", "--tie-share", "0.5")
    assert bad.code != 0 and "impossible" in bad.err


def test_plan_uses_the_studys_rule_and_the_fixed_n_formula_has_its_power(cli, tmp_path):
    (tmp_path / "c.toml").write_text('[signoff]\nties = "half"\n')
    pairs = write_jsonl(tmp_path / "p.jsonl", [pair(i) for i in range(3)])
    assert cli("import", pairs, "-s", "s", "--config", tmp_path / "c.toml").code == 0
    r = cli("plan", "-s", "s", "--expected-rate", "0.7", "--tie-share", "0.2", "--runs", "200")
    assert r.code == 0 and "ties count half, 20% ties" in r.out
    # One fixed-n read (ties count as not a win): the exact power of Wilson at the planned n,
    # a binomial sum, is the 80% asked for (normal approximation: within 3 points).
    data = cli("plan", "--expected-rate", "0.7", "--runs", "200", "--json").json()
    n = data["rows"][1]["items"]
    k = np.arange(n + 1)
    low, _ = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert stats.binom.pmf(k[low > 0.6], n, 0.7).sum() == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize(("p", "agreement"), [(0.5, 0.8), (0.7, 0.9), (0.6, 0.65)])
def test_judge_correlation_of_a_symmetric_channel(p, agreement):
    # The judge says the human outcome with probability A, else the other one (binary).
    # Cov(Y, f) = p(1-p)(2A-1); Var f = q(1-q) with q = pA + (1-p)(1-A); so
    # rho^2 = p(1-p)(2A-1)^2 / (q(1-q)), which is (2A-1)^2 at p = 1/2.
    from reviewer.analysis.planning import judge_correlation

    q = p * agreement + (1 - p) * (1 - agreement)
    expected = p * (1 - p) * (2 * agreement - 1) ** 2 / (q * (1 - q))
    got = judge_correlation("not_a_win", np.array([p, 0.1, 0.9 - p]), agreement)
    assert got == pytest.approx(expected)
