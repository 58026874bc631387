"""Each provider through its official SDK, over real HTTP to the scripted server."""

from __future__ import annotations

import asyncio

import pytest
from llm_server import MARKER, Script

from judge import PairText, Rubric, RubricCriterion, answer_schema, parse_answer, render
from judge.providers import ProviderError, ProviderSetupError, Request, make_provider

RUBRIC = Rubric(criteria=(RubricCriterion(name="correctness", description="Right facts"),))


def request(first="plain answer", second=f"good answer {MARKER}", timeout=10.0) -> Request:
    messages = render(RUBRIC, PairText("What is 2+2?", first, second))
    return Request(messages, answer_schema(RUBRIC), max_tokens=512, temperature=0, timeout=timeout)


def complete(provider, req: Request):
    async def go():
        try:
            return await provider.complete(req)
        finally:
            await provider.close()

    return asyncio.run(go())


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")


@pytest.mark.parametrize(
    ("provider", "mode", "sent"),
    [
        ("openai", "auto", {"response_format": "json_schema"}),
        ("openai", "tools", {"tools": "function"}),
        ("openai-compatible", "auto", {"response_format": "json_object"}),
        ("openai-compatible", "plain", {}),
        ("anthropic", "auto", {"tools": "tool"}),
        ("anthropic", "plain", {}),
    ],
)
def test_each_provider_and_mode_returns_a_valid_verdict(llm, keys, provider, mode, sent):
    url = llm.anthropic_url if provider == "anthropic" else llm.openai_url
    p = make_provider(provider, "judge-model", url, mode)
    response = complete(p, request())
    out = parse_answer(response.text, RUBRIC)
    assert out.overall == "second"  # the marker is in the second response
    assert [c.criterion for c in out.criteria] == ["correctness"]
    assert response.input_tokens > 100 and response.output_tokens > 0
    assert not response.truncated
    assert response.served_model == "judge-model"  # the server names the model it ran
    body = llm.bodies[-1]
    assert body["model"] == "judge-model" and body["max_tokens"] == 512
    if "response_format" in sent:
        assert body["response_format"]["type"] == sent["response_format"]
        schema = (
            body["response_format"].get("schema")
            or body["response_format"]["json_schema"]["schema"]
        )
        assert schema == answer_schema(RUBRIC)
    if "tools" in sent:
        assert len(body["tools"]) == 1 and "tool_choice" in body
    if not sent:
        assert "response_format" not in body and "tools" not in body
    if provider == "anthropic":
        assert body["system"].startswith("You are an impartial expert judge")
        assert [m["role"] for m in body["messages"]] == ["user"]
    key = {"openai": "sk-openai-test", "anthropic": "sk-ant-test"}.get(provider, "sk-openai-test")
    assert llm.keys_seen == {key}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_failures_are_classified(llm, keys, provider):
    url = llm.anthropic_url if provider == "anthropic" else llm.openai_url
    llm.reset(Script(faults=["429", "500", "401", "404", "400"], retry_after=0.25))
    seen = []
    for _ in range(5):
        with pytest.raises(ProviderError) as caught:
            complete(make_provider(provider, "m", url), request())
        seen.append((caught.value.retry, caught.value.fatal, caught.value.retry_after))
    assert seen == [
        (True, False, 0.25),  # 429: retry after what the server said
        (True, False, None),  # 500: retry with our own backoff
        (False, True, None),  # bad key: stop the run
        (False, True, None),  # unknown model: stop the run
        (False, False, None),  # bad request: this call fails, the run goes on
    ]


def test_a_refused_key_is_not_repeated_in_the_error(llm, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-VERYSECRET123")
    llm.reset(Script(faults=["401"]))
    with pytest.raises(ProviderError) as caught:
        complete(make_provider("openai", "m", llm.openai_url), request())
    assert "VERYSECRET" not in str(caught.value)
    assert "Incorrect API key provided: [key]" in str(caught.value)


def test_a_hanging_server_times_out_as_retryable(llm, keys):
    llm.reset(Script(faults=["hang"]))
    with pytest.raises(ProviderError) as caught:
        complete(make_provider("openai", "m", llm.openai_url), request(timeout=0.5))
    assert caught.value.retry and "Timeout" in str(caught.value)


def test_malformed_and_truncated_answers_come_back_as_text(llm, keys):
    llm.reset(Script(faults=["malformed", "truncated"]))
    provider = "openai-compatible"
    bad = complete(make_provider(provider, "m", llm.openai_url), request())
    assert not bad.truncated and "not json" in bad.text
    cut = complete(make_provider(provider, "m", llm.openai_url), request())
    assert cut.truncated


def test_setup_errors_come_before_any_call(llm, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderSetupError, match="OPENAI_API_KEY"):
        make_provider("openai", "gpt-4o")
    with pytest.raises(ProviderSetupError, match="ANTHROPIC_API_KEY"):
        make_provider("anthropic", "claude-sonnet-4-5")
    with pytest.raises(ProviderSetupError, match="needs --base-url"):
        make_provider("openai-compatible", "llama3")
    with pytest.raises(ProviderSetupError, match="TOGETHER_KEY"):
        make_provider("openai-compatible", "m", llm.openai_url, key_env="TOGETHER_KEY")
    with pytest.raises(ProviderSetupError, match="modes tools and plain"):
        make_provider("anthropic", "m", mode="json_schema")
    assert llm.requests == 0
    # A local server needs no key at all.
    assert make_provider("openai-compatible", "m", llm.openai_url).mode == "json_object"
