"""A config file keeps its hash across releases that add config fields, so a frozen study still
accepts the file it was imported with. The hashes below were computed by signoff at 4ffc5db, the
release before the fields added since (display, annotator_title, signoff.ties, ...)."""

from __future__ import annotations

from reviewer.config import StudyConfig, load_config

OLD_CONFIG = """title = "t"
seed = 7
[signoff]
win_rate_threshold = 0.65
[gate]
min_usable_pairs = 12
"""


def test_a_config_written_before_the_new_fields_keeps_its_hash(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text(OLD_CONFIG)
    assert (
        load_config(path).content_hash()
        == "bb1b1607d0df54a0ca57845518365d70242c72dfc81410d68edfaa233a390765"
    )
    assert (
        StudyConfig(title="t").content_hash()
        == "2e069d33430fc2be8eac10c841324719b389b3c83195a4a6b7fbfba7b344b582"
    )


def test_a_new_field_set_away_from_its_default_changes_the_hash(tmp_path):
    path = tmp_path / "new.toml"
    path.write_text(OLD_CONFIG.replace("[gate]", 'ties = "half"\n[gate]'))
    assert load_config(path).signoff.ties == "half"
    assert (
        load_config(path).content_hash()
        != "bb1b1607d0df54a0ca57845518365d70242c72dfc81410d68edfaa233a390765"
    )
