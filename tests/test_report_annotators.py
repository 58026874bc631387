"""The report's annotator section (`reviewer.report.agreement.annotators`)."""

from reviewer.columns import columns_of
from reviewer.report.agreement import annotators


def _label(pair: str, who: str, preference: str, seconds: float | None, left: bool | None):
    return {"pair_id": pair, "annotator_id": who, "preference": preference,
            "seconds": seconds, "candidate_left": left}  # fmt: skip


def test_each_annotator_counted_against_the_others():
    labels = [
        _label("a", "x", "candidate", 10.0, True),  # picked the left response
        _label("a", "y", "candidate", 5.0, None),  # side not recorded
        _label("a", "z", "baseline", None, True),  # picked the right one
        _label("b", "x", "tie", None, False),  # a tie picks no side
        _label("b", "y", "baseline", 7.0, False),  # picked the left one
        _label("c", "x", "candidate", 30.0, False),  # alone on c; picked the right one
    ]
    people = [
        {"annotator_id": who, "display_name": who.upper(), "role": "annotator"}
        for who in ("x", "y", "z", "w")
    ]
    held = columns_of(labels, labels[0])
    out = {a.annotator_id: a for a in annotators(held, people)}
    # x: on a, y agrees and z not; on b, y not: 1 of 3. y: x on a, not x on b. z: neither on a.
    assert [out[w].agreement_with_others for w in "xyzw"] == [1 / 3, 1 / 3, 0.0, None]
    assert [out[w].labels for w in "xyzw"] == [3, 2, 1, 0]
    assert [out[w].median_seconds for w in "xyzw"] == [20.0, 6.0, None, None]
    assert [out[w].left_pick_rate for w in "xyzw"] == [0.5, 1.0, 0.0, None]
    assert out["x"].name == "X"
