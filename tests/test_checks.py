"""Each mechanical scorer against a worked example computed independently (by hand, or by the
library it wraps), and the per-stratum summary against scikit-learn and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from rapidfuzz import fuzz
from rouge_score import rouge_scorer
from scipy.stats import bootstrap
from sklearn.metrics import f1_score

from reviewer.checks.declared import CheckConfig
from reviewer.checks.resample import index_rows, rng_for, rows_f1
from reviewer.checks.summary import CheckPair, check_result, score
from reviewer.config import StudyConfig
from reviewer.errors import InvalidInput


def scores(kind: str, outputs: list[str], expected, **over) -> list[float]:
    """The candidate's scores of `outputs` (the baseline's output is left empty)."""
    check = CheckConfig(name="c", kind=kind, **over)
    exp = expected if isinstance(expected, list) else [expected] * len(outputs)
    pairs = [
        CheckPair(f"p{i}", "s", out, "", reference=e if isinstance(e, str) else None,
                  metadata={"expected": e})
        for i, (out, e) in enumerate(zip(outputs, exp, strict=True))
    ]  # fmt: skip
    return score(check, pairs).candidate.tolist()


def test_exact_and_normalised_exact_by_hand():
    outputs = ["Paris", "paris", " PARIS. ", "Paris, France", "Ｐａｒｉｓ!"]
    assert scores("exact", outputs, "Paris") == [1, 0, 0, 0, 0]
    # NFKC folds the full-width letters; case, edge spaces and the final . or ! do not count.
    assert scores("normalised_exact", outputs, "Paris") == [1, 1, 1, 0, 1]


def test_fuzzy_is_rapidfuzz_ratio_of_the_normalised_texts():
    # kitten/sitting: longest common subsequence "ittn" (4), indel distance 6 + 7 - 2*4 = 5,
    # similarity 1 - 5/13.
    assert scores("fuzzy", ["kitten"], "sitting") == [pytest.approx(1 - 5 / 13)]
    pairs = [("The quick brown fox", "the quick brown fax!"), ("", "abc"), ("abc", "abc")]
    got = [scores("fuzzy", [a], b)[0] for a, b in pairs]
    assert got == pytest.approx([fuzz.ratio("the quick brown fox", "the quick brown fax") / 100,
                                 0.0, 1.0])  # fmt: skip


def test_rouge_l_equals_the_rouge_score_library():
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    cases = [
        ("the cat sat on the mat", "the cat lay on the mat"),
        (
            "Refunds: within 30 days, annual plans only!",
            "Annual plans are refundable within 30 days.",
        ),
        ("a a a b", "a b a b a"),
        ("nothing shared", "entirely different words"),
        ("", "empty prediction"),
        ("Café — 12,50 €", "cafe 12 50"),
    ]
    for prediction, reference in cases:
        expected = scorer.score(reference, prediction)["rougeL"].fmeasure
        assert scores("rouge_l", [prediction], reference) == [pytest.approx(expected)]
    # By hand: 5 of 6 tokens in common order on both sides: P = R = 5/6.
    assert scores("rouge_l", [cases[0][0]], cases[0][1]) == [pytest.approx(5 / 6)]


def test_json_fields_share_of_expected_keys_with_equal_values():
    expected = {"city": "Oslo", "zip": "0150", "vat": True, "lines": [1, 2]}
    outputs = [
        '{"city": "Oslo", "zip": "0150", "vat": true, "lines": [1, 2], "extra": 0}',  # 4/4
        '```json\n{"city": "Oslo", "zip": 150, "vat": 1, "lines": [1.0, 2]}\n```',  # city, lines
        '{"city": "oslo"}',  # 0/4: values compare exactly
        "not json",
        '["a list", "not an object"]',
    ]
    assert scores("json_fields", outputs, expected) == [1.0, 0.5, 0.0, 0.0, 0.0]
    # One field of it, as a check target: expected.city.
    got = scores("exact", ['{"city": "Oslo"}', '{"city": "Bergen"}', "Oslo"], expected,
                 field="city", target="expected.city")  # fmt: skip
    assert got == [1.0, 0.0, 0.0]


def test_json_schema_validity_matches_jsonschema():
    schema = {
        "type": "object",
        "required": ["intent", "priority"],
        "properties": {"intent": {"enum": ["billing", "export"]}, "priority": {"type": "integer"}},
        "additionalProperties": False,
    }
    docs = [
        '{"intent": "billing", "priority": 2}',
        '{"intent": "billing", "priority": "2"}',
        '{"intent": "refund", "priority": 1}',
        '{"intent": "export", "priority": 1, "x": 0}',
        "{broken",
        "",
    ]
    validator = Draft202012Validator(schema)
    import json

    def valid(doc: str) -> float:
        try:
            return float(validator.is_valid(json.loads(doc)))
        except ValueError:
            return 0.0

    assert scores("json_schema", docs, None, json_schema=schema) == [valid(d) for d in docs]
    assert [valid(d) for d in docs] == [1, 0, 0, 0, 0, 0]


def test_regex_and_declines():
    outputs = ["Go to Settings > Billing.", "Open billing.", "I can't share another login."]
    assert scores("regex", outputs, None, pattern=r"Settings > \w+") == [1, 0, 0]
    assert scores("regex", outputs, None, pattern=r"(?i)billing", must_match=False) == [0, 0, 1]
    refusals = [
        "I can't share or reset another person's login.",
        "I'm sorry, but I cannot help with that.",
        "I'm not able to give tax advice.",
        "Open Customers and choose Delete.",
        "I can help: open Customers and choose Delete.",
    ]
    should = [True, True, True, False, False]
    got = scores("declines", refusals, should, target="expected")
    assert got == [1, 1, 1, 1, 1]
    assert scores("declines", refusals, [not s for s in should], target="expected") == [0] * 5
    # A pair that does not say falls back to the check's should_decline.
    assert scores("declines", refusals, None) == [1, 1, 1, 0, 0]
    assert scores("declines", refusals, None, should_decline=False) == [0, 0, 0, 1, 1]


def test_classification_macro_f1_per_stratum_is_scikit_learns():
    truth = ["billing", "export", "billing", "bank", "export", "bank", "billing", "bank"]
    cand = ["billing", "export", "export", "bank", "export", "billing", "billing", "bank"]
    base = ["billing", "billing", "billing", "bank", "bank", "bank", "export", "other"]
    pairs = [
        CheckPair(f"p{i}", "s" if i < 5 else "t", c, b, metadata={"expected": t})
        for i, (t, c, b) in enumerate(zip(truth, cand, base, strict=True))
    ]
    check = CheckConfig(name="intent", kind="classification")
    res = check_result(check, pairs, confidence=0.95, seed=1, resamples=200)
    assert res.overall.candidate == pytest.approx(f1_score(truth, cand, average="macro"))
    assert res.overall.baseline == pytest.approx(f1_score(truth, base, average="macro"))
    s = res.by_stratum["s"]
    assert s.candidate == pytest.approx(f1_score(truth[:5], cand[:5], average="macro"))
    per = f1_score(truth, cand, labels=["bank", "billing", "export"], average=None)
    assert [res.overall.per_class[k]["candidate"] for k in ("bank", "billing", "export")] == (
        pytest.approx(per.tolist())
    )
    # The vectorised F1 that the bootstrap uses equals scikit-learn's on resampled rows.
    names = sorted(set(truth) | set(cand) | set(base))
    code = {n: i for i, n in enumerate(names)}
    t = np.array([code[x] for x in truth])
    p = np.array([code[x] for x in base])
    rows = next(index_rows(len(t), 20, rng_for(3)))
    fast = rows_f1(t, p, rows, len(names)).macro()
    slow = [f1_score(t[r], p[r], average="macro", zero_division=0) for r in rows]
    assert fast == pytest.approx(slow)


def test_macro_f1_interval_matches_scipys_paired_bootstrap():
    rng = np.random.default_rng(4)
    classes = np.array(["billing", "export", "bank"])
    truth = classes[rng.integers(0, 3, 300)]
    noisy = classes[rng.integers(0, 3, 300)]
    cand = np.where(rng.random(300) < 0.85, truth, noisy)
    base = np.where(rng.random(300) < 0.70, truth, noisy)
    pairs = [
        CheckPair(f"p{i:03d}", "s", c, b, metadata={"expected": t})
        for i, (t, c, b) in enumerate(zip(truth, cand, base, strict=True))
    ]
    res = check_result(CheckConfig(name="k", kind="classification"), pairs, confidence=0.95,
                       seed=2, resamples=2000)  # fmt: skip

    def macro(t, p):  # noqa: ANN001, ANN202
        # By hand: per class 2TP / (true + predicted), over the classes either side uses.
        used = set(t) | set(p)
        return np.mean([2 * np.sum((t == k) & (p == k)) / (np.sum(t == k) + np.sum(p == k))
                        for k in used])  # fmt: skip

    def diff(t, c, b):  # noqa: ANN001, ANN202
        return macro(t, c) - macro(t, b)

    assert macro(truth, cand) == pytest.approx(f1_score(truth, cand, average="macro"))

    ci = bootstrap(
        (truth, cand, base), diff, paired=True, vectorized=False, method="percentile",
        n_resamples=1500, random_state=1,
    ).confidence_interval  # fmt: skip
    d = res.overall.difference
    assert d.value == pytest.approx(diff(truth, cand, base))
    assert (d.low, d.high) == (pytest.approx(ci.low, abs=0.015), pytest.approx(ci.high, abs=0.015))


def test_summary_means_worst_item_drops_and_the_bootstrap_interval():
    rng = np.random.default_rng(5)
    n = 400
    ref = [f"answer {i}" for i in range(n)]
    # The candidate is right on 80% of items, the baseline on 70%.
    cand_ok, base_ok = rng.random(n) < 0.8, rng.random(n) < 0.7
    pairs = [
        CheckPair(f"p{i:03d}", "a" if i % 2 else "b", ref[i] if cand_ok[i] else "wrong",
                  ref[i] if base_ok[i] else "wrong", reference=ref[i])
        for i in range(n)
    ]  # fmt: skip
    check = CheckConfig(name="ex", kind="exact")
    res = check_result(check, pairs, confidence=0.95, seed=9, resamples=2000)
    o = res.overall
    assert (o.candidate, o.baseline) == (
        pytest.approx(cand_ok.mean()),
        pytest.approx(base_ok.mean()),
    )
    assert o.difference.value == pytest.approx(cand_ok.mean() - base_ok.mean())
    # The worst item is the first (by id) the candidate got wrong; drops are the items where
    # only the baseline was right, in id order (all drop by 1), five of them.
    first_wrong = min(f"p{i:03d}" for i in range(n) if not cand_ok[i])
    assert o.worst_item.pair_id == first_wrong and o.worst_item.candidate == 0
    drops = sorted(f"p{i:03d}" for i in range(n) if base_ok[i] and not cand_ok[i])[:5]
    assert [d.pair_id for d in o.dropped] == drops
    # scipy's paired percentile bootstrap (other random draws) gives the same interval, within
    # the resampling noise.
    d = cand_ok.astype(float) - base_ok.astype(float)
    ci = bootstrap((d,), np.mean, method="percentile", n_resamples=4000, random_state=1)
    assert o.difference.low == pytest.approx(ci.confidence_interval.low, abs=0.012)
    assert o.difference.high == pytest.approx(ci.confidence_interval.high, abs=0.012)
    # Seeded: the same study seed gives the same interval.
    again = check_result(check, pairs, confidence=0.95, seed=9, resamples=2000)
    assert again.overall.difference == o.difference
    assert set(res.by_stratum) == {"a", "b"}
    assert res.by_stratum["a"].items + res.by_stratum["b"].items == n


def test_pairs_without_their_expected_value_are_counted_not_scored():
    pairs = [CheckPair("p1", "s", "x", "x", reference="x"), CheckPair("p2", "s", "x", "y")]
    res = check_result(CheckConfig(name="e", kind="exact"), pairs, confidence=0.95, seed=1,
                       resamples=50)  # fmt: skip
    assert (res.overall.items, res.overall.unscored) == (1, 1)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"name": "r", "kind": "regex"}, "needs a pattern"),
        ({"name": "r", "kind": "regex", "pattern": "(unclosed"}, "not a regex"),
        ({"name": "j", "kind": "json_schema"}, "needs json_schema"),
        ({"name": "j", "kind": "json_schema", "json_schema": {"type": 5}}, "invalid json_schema"),
        ({"name": "x", "kind": "exact", "target": "metadata.x"}, "target"),
    ],
)
def test_a_bad_check_is_refused_at_load(tmp_path, check, message):
    import json

    from reviewer.config import load_config

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"checks": [check]}))
    # YAML reads JSON: the config loader takes .yaml.
    yaml_path = path.rename(tmp_path / "c.yaml")
    with pytest.raises(InvalidInput, match=message):
        load_config(yaml_path)


def test_checks_are_part_of_the_config_hash_only_when_declared():
    plain = StudyConfig()
    with_check = StudyConfig(checks=[CheckConfig(name="e", kind="exact")])
    assert "checks" not in plain.canonical_json() and "checklist" not in plain.canonical_json()
    assert plain.content_hash() != with_check.content_hash()


def test_rouge_l_columns_equal_rouge_score_on_varied_texts():
    """The whole-column path (rapidfuzz LCS on the ASCII fast tokenizer, F in numpy) gives
    rouge-score's own F-measure on varied texts: ASCII and not, punctuation, digits, repeats,
    empty sides."""
    import random

    rng = random.Random(16)
    words = ["the", "cat", "Sat", "on", "mat", "12,50", "café", "naïve", "résumé", "—", "a-b",
             "ÉCOLE", "x", "don't", "42", "!!", "İstanbul", "ß", "Ω", "\t", "\n"]  # fmt: skip
    refs, preds = [], []
    for _ in range(400):
        refs.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 25))))
        preds.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 25))))
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    expected = [scorer.score(r, p)["rougeL"].fmeasure for r, p in zip(refs, preds, strict=True)]
    got = scores("rouge_l", preds, refs)
    assert got == pytest.approx(expected, abs=1e-12)
    assert any(0 < e < 1 for e in expected) and any(e == 0 for e in expected)


def test_normalised_and_fuzzy_columns_equal_the_per_item_definitions():
    """normalise splits on the same whitespace as the regex \\s it replaced; fuzzy over whole
    columns (rapidfuzz cpdist) equals fuzz.ratio pair by pair."""
    import re
    import unicodedata

    texts = [
        "  a\u00a0b\u2003c\u2028d.",
        "Ｐａｒｉｓ!",
        "x\x1c\x1dy\x1e\x1f z ",
        "Tab\tand\nline?!",
    ]
    for text in texts:
        old = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
        assert scores("normalised_exact", [text], old.rstrip(".!?").rstrip()) == [1.0]
    outs, refs = ["kitten", "Paris, France", "", "abc"], ["sitting", "paris", "abc", "abc"]
    want = [fuzz.ratio(a.casefold(), b) / 100 for a, b in zip(outs, refs, strict=True)]
    assert scores("fuzzy", outs, refs) == pytest.approx(want, abs=0)
