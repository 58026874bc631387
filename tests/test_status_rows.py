"""How annotators read in `signoff status`: people with a queue show done/assigned, people
whose labels were imported (or are the demo's samples) show what they labeled and no queue."""

from __future__ import annotations

import csv

from conftest import DATA


def sample_label_counts() -> dict[str, tuple[int, int]]:
    """Per annotator name in the sample labels file: (labels, labels on calibration pairs).

    Every sample label is on a calibration pair (the file was written for the calibration set)."""
    with open(DATA / "sample_labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = sorted({r["annotator"] for r in rows})
    return {n: (sum(r["annotator"] == n for r in rows),) * 2 for n in names}


def test_imported_annotators_show_no_empty_queue(cli):
    cli("import", DATA / "support_pairs.jsonl", "-s", "s", "--config", DATA / "support_study.toml")
    cli("annotators", "add", "Ana", "-s", "s")
    cli("labels", "import", DATA / "sample_labels.csv", "-s", "s")
    st = cli("status", "--json").json()
    people = {a["display_name"]: a for a in st["annotators"]}
    counts = sample_label_counts()
    assert set(counts) < set(people)
    lines = cli("status").out.splitlines()
    for name, (labeled, calibration) in counts.items():
        assert people[name]["role"] == "imported" and people[name]["assigned"] == 0
        line = next(x for x in lines if x.strip().startswith(name))
        assert line.split()[-2:] == [str(labeled), str(calibration)], line
        assert "/0" not in line
    ana = people["Ana"]
    line = next(x for x in lines if x.strip().startswith("Ana"))
    assert line.split()[-2:] == [
        f"0/{ana['assigned']}",
        f"0/{ana['calibration_assigned']}",
    ]
    assert ana["assigned"] == 128 and ana["calibration_assigned"] == 40
