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

import gc
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from reviewer.checks.declared import CheckConfig
from reviewer.checks.table import TextMemo

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*)\n\s*```$", re.DOTALL)
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
# The first character (after JSON whitespace) of any text json.loads accepts.
_JSON_START = frozenset('{["-0123456789tfnNI')
# ASCII text: every character but a-z and 0-9 to a space, in one str.translate.
_ASCII_WORDS = str.maketrans(
    {
        chr(i): chr(i) if chr(i) in "abcdefghijklmnopqrstuvwxyz0123456789" else " "
        for i in range(128)
    }
)
# The same for many ASCII texts joined by NUL: upper case lowered too, NUL kept between them.
_JOINED_WORDS = {**_ASCII_WORDS, **{i: i + 32 for i in range(65, 91)}, 0: 0}


def normalise(text: str) -> str:
    """Unicode NFKC, case-folded, whitespace collapsed, trailing . ! ? dropped.

    >>> normalise("  The  ANSWER is\\n42. ")
    'the answer is 42'
    """
    # str.split() and the regex \s split on the same characters (str.isspace); 6x faster.
    # Every whitespace character but the space is unprintable: a printable text without
    # double or edge spaces is already collapsed (most are), and split + join are skipped.
    text = unicodedata.normalize("NFKC", text)
    text = text.lower() if text.isascii() else text.casefold()  # equal on ASCII; 5x faster
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.split())
    return text.rstrip(".!?").rstrip()


def parse_json(text: str) -> Any:
    """The JSON an output holds, or None when it holds none. A Markdown code fence around the
    whole output (```json ... ```), as chat models often write it, is taken off first."""
    text = text.strip()
    if fenced := _FENCE.match(text):
        text = fenced.group(1)
    if text.lstrip(" \t\n\r")[:1] not in _JSON_START:
        return None  # json.loads would raise: spares the exception for prose outputs
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def as_text(value: Any) -> str:
    """An expected value or a JSON field as text: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1 (Python would say it is)."""
    if type(a) is str or type(b) is str:  # most fields: text, equal to text only
        return a == b
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
    hits = 0
    for key, value in expected.items():
        if key in output and same(output[key], value):
            hits += 1
    return hits / len(expected)


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's tokens: lower case, runs of anything but a-z and 0-9 split words.

    >>> rouge_tokens("Café: 12,50 EUR!")
    ['caf', '12', '50', 'eur']
    """
    text = text.lower()
    if text.isascii():
        return text.translate(_ASCII_WORDS).split()
    return _NON_ALPHANUMERIC.sub(" ", text).split()


def rouge_token_lists(texts: list[str]) -> list[list[str]]:
    """`rouge_tokens` of every text, each distinct text once (the lists are shared); ASCII
    texts lowered and split into words by one str.translate of them all."""
    distinct = list(dict.fromkeys(texts))
    joined = "\x00".join(distinct)
    if joined.isascii() and joined.count("\x00") == len(distinct) - 1:
        pieces = joined.translate(_JOINED_WORDS).split("\x00")
        lists = [piece.split() for piece in pieces]
    else:
        lists = [rouge_tokens(text) for text in distinct]
    known = dict(zip(distinct, lists, strict=True))
    return [known[text] for text in texts]


@cache
def finds(pattern: str) -> Callable[[str], bool]:
    """Whether a text holds a match of `pattern` (one function per pattern, so that a run
    searches each distinct output once per pattern)."""
    search = re.compile(pattern).search
    return lambda text: search(text) is not None


Scores = tuple[np.ndarray, np.ndarray, tuple[list[str], list[str]] | None]


def score_pairs(
    check: CheckConfig,
    candidates: list[str],
    baselines: list[str],
    expected: list[Any],
    memo: TextMemo | None = None,
) -> Scores:
    """Both outputs of every pair scored against the pair's expected value: (candidate
    scores, baseline scores, and for classification the labels: truth, both outputs' given).
    What is derived from an expected value is derived once for both sides, what is derived
    from a text once per distinct text (`memo`, shared by the checks of a run), and rapidfuzz
    compares whole columns (`process.cpdist`) rather than one pair per Python call."""
    n = len(expected)
    memo = memo or TextMemo()
    outputs = memo.joined(candidates, baselines)
    labels = None
    with _without_gc():
        if check.kind == "classification":
            labels = classification_labels(check, outputs, expected, memo)
            truth, given = labels
            scores = np.array(given, dtype=object) == np.array(truth + truth, dtype=object)
            scores = scores.astype(float)
        else:
            scores = _score(check, outputs, expected, memo)
    return scores[:n], scores[n:], labels


@contextmanager
def _without_gc() -> Iterator[None]:
    """Scoring builds hundreds of thousands of acyclic containers (token lists, parsed JSON):
    the cyclic garbage collector would scan the growing heap again and again (half of
    ROUGE-L's time on 100,000 pairs). Nothing it builds can form a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _score(
    check: CheckConfig, outputs: list[str], expected: list[Any], memo: TextMemo
) -> np.ndarray:
    kind = check.kind
    if kind == "json_fields":
        docs = memo.apply(parse_json, outputs)
        return np.array(
            [field_score(d, e) for d, e in zip(docs, expected + expected, strict=True)], float
        )
    if kind == "json_schema":
        return _schema_valid(check.json_schema, outputs, memo)
    if kind == "regex":
        found = memo.apply(finds(check.pattern or ""), outputs)
        return np.array([f == check.must_match for f in found], float)
    if kind == "declines":
        refused = memo.apply(finds(check.decline_pattern), outputs)
        wanted = [bool(e) for e in expected] * 2
        return np.array([f == w for f, w in zip(refused, wanted, strict=True)], float)
    if check.field is not None:  # the text kinds may read one field of a JSON output
        outputs = output_fields(outputs, check.field, memo)
    targets = expected if all(type(e) is str for e in expected) else list(map(as_text, expected))
    if kind == "exact":
        return np.array([o == t for o, t in zip(outputs, targets + targets, strict=True)], float)
    if kind == "rouge_l":
        return rouge_l_scores(rouge_token_lists(outputs), rouge_token_lists(targets) * 2)
    norm = memo.apply(normalise, targets) * 2
    outs = memo.apply(normalise, outputs)
    if kind == "fuzzy":
        return process.cpdist(outs, norm, scorer=fuzz.ratio, dtype=np.float64, workers=1) / 100
    return np.array([o == t for o, t in zip(outs, norm, strict=True)], float)


def _schema_valid(schema: Any, outputs: list[str], memo: TextMemo) -> np.ndarray:
    """1 where an output parses and validates; each distinct output validated once
    (jsonschema imported here: ~0.25 s that studies without a schema check need not pay)."""
    from jsonschema.validators import validator_for

    validator = validator_for(schema)(schema)
    seen: dict[str, float] = {}
    for out, doc in zip(outputs, memo.apply(parse_json, outputs), strict=True):
        if out not in seen:
            seen[out] = float(doc is not None and validator.is_valid(doc))
    return np.array([seen[out] for out in outputs], float)


def rouge_l_scores(preds: list[list[str]], refs: list[list[str]]) -> np.ndarray:
    """ROUGE-L F-measure of every (prediction, reference) pair of token lists: 2PR / (P + R)
    with P and R the longest common subsequence over each side's length; 0 when nothing is
    shared (or a side is empty), as rouge-score gives.

    >>> pred, ref = rouge_tokens("the cat sat on the mat"), rouge_tokens("the cat lay on the mat")
    >>> rouge_l_scores([pred], [ref]).round(4)
    array([0.8333])
    """
    lcs = process.cpdist(preds, refs, scorer=LCSseq.similarity, dtype=np.int64, workers=1)
    n_pred = np.array([len(p) for p in preds], float)
    n_ref = np.array([len(r) for r in refs], float)
    out = np.zeros(len(preds))
    hit = lcs > 0  # an empty side has no common token either
    precision, recall = lcs[hit] / n_pred[hit], lcs[hit] / n_ref[hit]
    out[hit] = 2 * precision * recall / (precision + recall)
    return out


def _field_text(doc: Any, name: str) -> str:
    if isinstance(doc, dict) and name in doc:
        return as_text(doc[name])
    return ""


def output_fields(outputs: list[str], name: str, memo: TextMemo) -> list[str]:
    """One field of each JSON-object output, as text (empty where an output has none),
    each distinct output parsed once."""
    return [_field_text(doc, name) for doc in memo.apply(parse_json, outputs)]


def classification_labels(
    check: CheckConfig, outputs: list[str], expected: list[Any], memo: TextMemo | None = None
) -> tuple[list[str], list[str]]:
    """The true label of each pair and the label each output gives (normalised), for the F1
    per class: (truth, labels of `outputs`)."""
    memo = memo or TextMemo()
    truth = memo.apply(normalise, [as_text(e) for e in expected])
    if check.field is not None:
        outputs = output_fields(outputs, check.field, memo)
    return truth, memo.apply(normalise, outputs)
