"""The three declared files (study config, rubric, price table) are read by one set of rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.pricing import PricesError, load_prices
from judge.rubric import RubricError, load_rubric
from reviewer.config import load_config
from reviewer.errors import InvalidInput

LOADERS = [
    pytest.param(load_config, InvalidInput, id="config"),
    pytest.param(load_rubric, RubricError, id="rubric"),
    pytest.param(load_prices, PricesError, id="prices"),
]


@pytest.mark.parametrize(("load", "error"), LOADERS)
@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("x.json", b'{"a": 1}', "file: a {what} must be .toml, .yaml or .yml"),
        ("x.txt", b"a: 1", "file: a {what} must be .toml, .yaml or .yml"),
        ("x.yaml", b"- a\n- b\n", "file: must be a table/mapping"),
        ("x.toml", b"a = \n", "syntax: "),
        ("x.yaml", b"a: [1\n", "syntax: "),
        ("x.toml", b'a = "\xff"\n', "file: not UTF-8 text (invalid start byte at byte 5)"),
        ("missing.toml", None, "file: not found"),
    ],
)
def test_every_declared_file_is_refused_alike(tmp_path, load, error, name, content, problem):
    path: Path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    what = {load_config: "config", load_rubric: "rubric", load_prices: "price table"}[load]
    with pytest.raises(error) as err:
        load(path)
    assert f"{path}: {problem.format(what=what)}" in str(err.value)


@pytest.mark.parametrize(("load", "error"), LOADERS)
def test_unknown_fields_are_named_by_their_dotted_path(tmp_path, load, error):
    path = tmp_path / "x.toml"
    path.write_text("[zzz]\nq = 1\n")
    with pytest.raises(error) as err:
        load(path)
    field = "zzz.input" if load is load_prices else "zzz"
    assert f"{path}: {field}: " in str(err.value)


def test_a_price_must_be_a_number_not_a_boolean(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[m]\ninput = true\noutput = 2\n")
    with pytest.raises(PricesError) as err:
        load_prices(path)
    assert f"{path}: m.input: Input should be a valid number" in str(err.value)
    path.write_text("[m]\ninput = 1\noutput = 2.5\n")
    assert load_prices(path).for_model("m").cost(1_000_000, 0) == 1.0
