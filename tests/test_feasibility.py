"""Rules that can never be met are refused at import, with the arithmetic; defaults that do not
fit a small study are imported with a warning that says so."""

from __future__ import annotations

from conftest import pair, write_jsonl


def test_a_gate_that_can_never_pass_is_refused_with_the_arithmetic(cli, tmp_path, pairs_file):
    config = tmp_path / "c.toml"
    config.write_text("[calibration]\nsize = 20\n")
    r = cli("import", pairs_file, "-s", "s", "--config", config)
    assert r.code == 2
    # 20 calibration pairs x 0.6 held out = 12 < 50 usable pairs needed to decide the gate.
    assert (
        "config: gate.min_usable_pairs: = 50 can never be met: calibration.size = 20 and "
        "calibration.holdout_fraction = 0.6 of 20 calibration pairs leaves round(0.6 x 20) = 12 "
        "held-out pairs to decide the gate on; lower gate.min_usable_pairs to at most 12"
    ) in r.err
    assert "nothing was imported" in r.err
    assert "no study" in cli("status").err


def test_a_gate_decided_on_the_whole_set_counts_every_calibration_pair(cli, tmp_path, pairs_file):
    config = tmp_path / "c.toml"
    config.write_text(
        "[calibration]\nsize = 20\nholdout_fraction = 0\n[gate]\nmin_usable_pairs = 21\n"
    )
    r = cli("import", pairs_file, "-s", "s", "--config", config)
    assert r.code == 2
    assert "a calibration set of 20 pairs decides the gate" in r.err
    assert "lower gate.min_usable_pairs to at most 20" in r.err


def test_a_signoff_rule_the_study_cannot_meet_is_refused(cli, tmp_path, pairs_file):
    config = tmp_path / "c.yaml"
    config.write_text("signoff:\n  min_decisive_pairs: 41\n")
    r = cli("import", pairs_file, "-s", "s", "--config", config)
    assert r.code == 2
    assert (
        "signoff.min_decisive_pairs: = 41 can never be met: the study has 40 pairs, so at most "
        "40 decisive ones; lower signoff.min_decisive_pairs to at most 40"
    ) in r.err
    config.write_text("signoff:\n  min_decisive_pairs: 40\n")
    assert cli("import", pairs_file, "-s", "s", "--config", config).code == 0


def test_a_small_trial_under_default_rules_is_imported_with_warnings(cli, tmp_path):
    small = write_jsonl(tmp_path / "small.jsonl", [pair(i) for i in range(1, 13)])
    r = cli("import", small, "-s", "trial")
    assert r.code == 0, r.err
    # Defaults: 30 decisive pairs needed; 12 calibration pairs x 0.6 = round(7.2) = 7 held out.
    assert (
        "warning: the default signoff.min_decisive_pairs = 30 can never be met: the study has "
        "12 pairs"
    ) in r.err
    assert (
        "warning: no judge can pass the gate on this study: calibration.holdout_fraction = 0.6 "
        "of 12 calibration pairs leaves round(0.6 x 12) = 7 held-out pairs to decide the gate "
        "on, fewer than gate.min_usable_pairs = 50"
    ) in r.err
    assert cli("status", "--json").json()["pairs"] == 12
