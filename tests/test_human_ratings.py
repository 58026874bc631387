"""The human preferences grouped once for the report (`human_ratings`)."""

from reviewer.analysis.human_items import human_ratings
from reviewer.columns import columns_of

FIELDS = ("pair_id", "annotator_id", "preference")


def test_grouped_once_in_label_order():
    labels = [
        {"pair_id": "b", "annotator_id": "x", "preference": "candidate"},
        {"pair_id": "a", "annotator_id": "y", "preference": "tie"},
        {"pair_id": "b", "annotator_id": "y", "preference": "baseline"},
        {"pair_id": "b", "annotator_id": "z", "preference": "candidate"},
    ]
    rated = human_ratings(columns_of(labels, FIELDS))
    assert rated.grouped == {
        "b": {"x": "candidate", "y": "baseline", "z": "candidate"},
        "a": {"y": "tie"},
    }
    assert list(rated.grouped) == ["b", "a"]  # first label's order
    assert rated.values == {"b": ["candidate", "baseline", "candidate"], "a": ["tie"]}
    # candidate 1, tie 0.5, baseline 0: b = (1 + 0 + 1) / 3
    assert rated.scores == {"b": 2 / 3, "a": 0.5}


def test_no_labels():
    rated = human_ratings(columns_of([], FIELDS))
    assert (rated.grouped, rated.values, rated.scores) == ({}, {}, {})
