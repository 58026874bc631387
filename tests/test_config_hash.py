"""A config file keeps its hash across releases that add config fields, so a frozen study still
accepts the file it was imported with. The hash below was computed by signoff at 4ffc5db, the
release before the fields added since (display, annotator_title, signoff.ties, the second gate's
rules, ...). Defaults that changed meaning since (the calibration set's size and held-out share,
the first gate's rules, now off by default) are set here as they were: a file that relied on
them now describes a different study, and its hash rightly changes."""

from __future__ import annotations

from reviewer.config import load_config

OLD_CONFIG = """title = "t"
seed = 7
[calibration]
size = 50
holdout_fraction = 0.3
[signoff]
win_rate_threshold = 0.65
[gate]
min_usable_pairs = 12
agreement_margin = 0.1
kappa_lower_bound_floor = 0.2
min_majority_agreement = 0.8
"""
OLD_HASH = "bb1b1607d0df54a0ca57845518365d70242c72dfc81410d68edfaa233a390765"


def test_a_config_written_before_the_new_fields_keeps_its_hash(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text(OLD_CONFIG)
    assert load_config(path).content_hash() == OLD_HASH


def test_a_new_field_set_away_from_its_default_changes_the_hash(tmp_path):
    path = tmp_path / "new.toml"
    path.write_text(OLD_CONFIG.replace("[gate]", 'ties = "half"\n[gate]'))
    assert load_config(path).signoff.ties == "half"
    assert load_config(path).content_hash() != OLD_HASH


def test_a_file_relying_on_a_changed_default_gets_a_new_hash(tmp_path):
    path = tmp_path / "relies.toml"
    path.write_text(OLD_CONFIG.replace("size = 50\n", ""))
    assert load_config(path).calibration.size == 100
    assert load_config(path).content_hash() != OLD_HASH
