"""Scorers: one output against what it should be, a number from 0 to 1.

Each wraps a library where one exists: rapidfuzz for fuzzy matching, jsonschema for schema
validity. ROUGE-L (Lin 2004: the F-measure of the longest common subsequence of tokens) follows
the reference implementation, Google's rouge-score, without stemming: its tokenizer in two
regex calls, and the subsequence computed by rapidfuzz in C++ rather than in a Python loop
(tests/test_checks.py compares both with rouge-score itself); 100,000 pairs take seconds.
Macro F1 of a classification is a statistic of a whole set of items, not of one: per item, a
classification scores label equality, and `reviewer.checks.summary` forms the F1.

An output that cannot be read (not JSON where JSON is expected, empty after a failed
generation) scores 0: it is a loss for its model, never a missing item.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from jsonschema.validators import validator_for
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from reviewer.checks.declared import CheckConfig

Scorer = Callable[[str, Any], float]
_SPACES = re.compile(r"\s+")
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*)\n\s*```$", re.DOTALL)
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Unicode NFKC, case-folded, whitespace collapsed, trailing . ! ? dropped.

    >>> normalise("  The  ANSWER is\\n42. ")
    'the answer is 42'
    """
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return text.rstrip(".!?").rstrip()


def parse_json(text: str) -> Any:
    """The JSON an output holds, or None when it holds none. A Markdown code fence around the
    whole output (```json ... ```), as chat models often write it, is taken off first."""
    text = text.strip()
    if fenced := _FENCE.match(text):
        text = fenced.group(1)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def as_text(value: Any) -> str:
    """An expected value or a JSON field as text: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1 (Python would say it is)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def field_score(output: Any, expected: dict[str, Any]) -> float:
    """Share of the expected keys whose value the output has, equal (`same`).

    >>> field_score({"city": "Oslo", "zip": "0150", "extra": 1}, {"city": "Oslo", "zip": 150})
    0.5
    """
    if not isinstance(output, dict):
        return 0.0
    hits = sum(k in output and same(output[k], v) for k, v in expected.items())
    return hits / len(expected)


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's tokens: lower case, runs of anything but a-z and 0-9 split words.

    >>> rouge_tokens("Café: 12,50 EUR!")
    ['caf', '12', '50', 'eur']
    """
    return _NON_ALPHANUMERIC.sub(" ", text.lower()).split()


def rouge_l(prediction: str, reference: str | list[str]) -> float:
    """ROUGE-L F-measure of a prediction against a reference (text, or its tokens).

    >>> round(rouge_l("the cat sat on the mat", "the cat lay on the mat"), 4)
    0.8333
    """
    pred = rouge_tokens(prediction)
    ref = rouge_tokens(reference) if isinstance(reference, str) else reference
    if not pred or not ref:
        return 0.0
    lcs = LCSseq.similarity(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def declines(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether an output is a refusal, by the study's refusal pattern."""
    return pattern.search(text) is not None


def _per_pair(prepare: Callable[[str], Any]) -> Callable[[Any], Any]:
    """`prepare` applied to an expected value, once for both outputs of a pair (they share it)."""
    last: list[Any] = [object(), None]

    def prepared(exp: Any) -> Any:
        if exp is not last[0]:
            last[:] = [exp, prepare(as_text(exp))]
        return last[1]

    return prepared


def _text_scorer(kind: str) -> Scorer:
    if kind == "exact":
        return lambda out, exp: float(out == as_text(exp))
    if kind == "rouge_l":
        tokens = _per_pair(rouge_tokens)
        return lambda out, exp: rouge_l(out, tokens(exp))
    norm = _per_pair(normalise)
    if kind == "fuzzy":
        return lambda out, exp: fuzz.ratio(normalise(out), norm(exp)) / 100
    return lambda out, exp: float(normalise(out) == norm(exp))


def scorer(check: CheckConfig) -> Scorer:
    """The function that scores one output (text, or its `field`) against its expected value."""
    kind = check.kind
    if kind == "json_fields":
        return lambda out, exp: field_score(parse_json(out), exp)
    if kind == "json_schema":
        validator = validator_for(check.json_schema)(check.json_schema)

        def valid(out: str, _: Any) -> float:
            doc = parse_json(out)
            return float(doc is not None and validator.is_valid(doc))

        return valid
    if kind == "regex":
        found = re.compile(check.pattern or "")
        return lambda out, _: float((found.search(out) is not None) == check.must_match)
    if kind == "declines":
        refusal = re.compile(check.decline_pattern)
        return lambda out, exp: float(declines(out, refusal) == bool(exp))
    text = _text_scorer(kind)
    if check.field is None:
        return text
    return lambda out, exp: text(output_field(out, check.field or ""), exp)


def output_field(output: str, name: str) -> str:
    """One field of a JSON-object output, as text; empty when the output has none."""
    doc = parse_json(output)
    if isinstance(doc, dict) and name in doc:
        return as_text(doc[name])
    return ""


def label_of(output: str, check: CheckConfig) -> str:
    """The label a classification output gives (normalised), for the F1 per class."""
    return normalise(output if check.field is None else output_field(output, check.field))
