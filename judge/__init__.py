"""The LLM judge: rubric, prompt, answer parsing and judge identity. It knows nothing of DuckDB
or Streamlit: it takes pairs and a rubric and returns verdicts. Providers and the runner (cache,
retries, concurrency, cost) build on this, and `judge.generate` runs a golden set's prompts
through the models under evaluation on the same machinery."""

from judge.identity import JudgeIdentity
from judge.prompts import DEFAULT_TEMPLATE, PairText, render, template_hash
from judge.rubric import Rubric, RubricCriterion, RubricError, load_rubric
from judge.verdict import JudgeOutput, ParseFailure, answer_schema, parse_answer, to_preference

__all__ = [
    "DEFAULT_TEMPLATE",
    "JudgeIdentity",
    "JudgeOutput",
    "PairText",
    "ParseFailure",
    "Rubric",
    "RubricCriterion",
    "RubricError",
    "answer_schema",
    "load_rubric",
    "parse_answer",
    "render",
    "template_hash",
    "to_preference",
]
