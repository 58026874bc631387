"""A scripted LLM server on 127.0.0.1 for tests and benchmarks.

It speaks enough of the OpenAI chat-completions API (`POST /v1/chat/completions`) and the
Anthropic messages API (`POST /v1/messages`) for the official SDKs, and judges like a
deterministic model would: it reads the two fenced responses out of the judge prompt and applies
a policy (prefer the one carrying a marker, or follow a ranking of the texts). Faults are scripted:
latency, 429 with Retry-After, 500, hanging, malformed JSON, output cut at max_tokens, a 200
whose body is an HTML page or empty (a proxy or a half-started server), an error body that
echoes the caller's key at length, and a random fault rate.
It counts what a provider would bill: answers actually delivered to a client
that was still connected (a client killed mid-call is not answered, as providers abort a
generation whose client went away). Both providers' batch APIs are served too
(llm_batch_server.py; scripted through `server.batch.script`).

Run standalone for benchmarks: `python tests/llm_server.py --port 8399 --latency 0.3`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import select
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import llm_batch_server

FENCE = re.compile(
    r"<<<BEGIN (?P<label>[A-Z ]+) (?P<nonce>[0-9a-f]{12})>>>\n(?P<body>.*?)\n<<<END ", re.S
)
CRITERIA_HINT = re.compile(r"one entry per criterion: ([^)]*)\)")
MARKER = "[[GOOD]]"


def marker_policy(first: str, second: str) -> str:
    """Prefer the response that carries the marker; a tie if both or neither do."""
    a, b = MARKER in first, MARKER in second
    return "first" if a and not b else "second" if b and not a else "tie"


POLICIES = {"marker": marker_policy}


def rank_policy(first: str, second: str, ranking: dict[str, float]) -> str:
    """Prefer the response ranked higher in `Script.ranking` (a test's model of its experts)."""
    a, b = ranking.get(first, 0.0), ranking.get(second, 0.0)
    return "first" if a > b else "second" if b > a else "tie"


@dataclass
class Script:
    """What the server does. `faults` is consumed one per request, in order, before
    `fault_rate` applies; each entry is ok | hang | malformed | truncated | html | empty |
    leak (a 400 whose long body repeats the key, whole and in pieces), or an HTTP status such
    as 429 (sent with Retry-After), 500 or 401."""

    policy: str = "marker"  # or "rank", or "echo" for generation (see echo_answer)
    latency: float = 0.0
    faults: list[str] = field(default_factory=list)
    fault_rate: float = 0.0
    retry_after: float = 0.05
    hold_after: int | None = None  # requests after this many are held, never answered
    ranking: dict[str, float] = field(default_factory=dict)  # for policy "rank"
    seed: int = 0
    # Model asked for -> model the reply names, as providers resolve an alias to a dated
    # snapshot ("gpt-x" -> "gpt-x-2026-01-01"); a model not listed is echoed back.
    served: dict[str, str] = field(default_factory=dict)


class LLMServer:
    def __init__(self, script: Script | None = None, port: int = 0):
        self.script = script or Script()
        self.billed = 0  # judgements delivered to a live client
        self.requests = 0
        self.keys_seen: set[str] = set()
        self.bodies: list[dict] = []
        # Fingerprints of the prompts whose answers were delivered: the same one in two runs
        # is a call paid twice.
        self.delivered: list[str] = []
        self.batch = llm_batch_server.Batches()  # the batch APIs' files, batches and counts
        self._lock = threading.Lock()
        self._rng = random.Random(self.script.seed)
        self._stop = threading.Event()
        handler = type("Handler", (_Handler,), {"owner": self})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self, script: Script | None = None) -> None:
        with self._lock:
            self.script = script or Script()
            self._rng = random.Random(self.script.seed)
            self.billed = self.requests = 0
            self.bodies.clear()
            self.delivered.clear()
            self.batch = llm_batch_server.Batches()

    def next_fault(self) -> str:
        with self._lock:
            self.requests += 1
            hold = self.script.hold_after
            if hold is not None and self.requests > hold:
                return "hang"  # held until the client goes away
            if self.script.faults:
                return self.script.faults.pop(0)
            if self._rng.random() < self.script.fault_rate:
                return self._rng.choice(["429", "500"])
            return "ok"


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # the default 5 refuses connections when 32 calls open at once
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client killed with -9 mid-request (the resume tests) resets its connection: not a
        server error, and its traceback on stderr would land in the next command's output."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    owner: LLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        # Like production servers: headers and body go out at once. Without it, Nagle's
        # algorithm and the client's delayed ACK added ~45 ms to every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        llm_batch_server.handle_get(self)

    def do_POST(self) -> None:
        if llm_batch_server.is_batch_path(self.path):
            llm_batch_server.handle_post(self)
            return
        server = self.owner
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        key = self.headers.get("authorization", "").removeprefix("Bearer ") or self.headers.get(
            "x-api-key", ""
        )
        with server._lock:
            server.keys_seen.add(key)
            server.bodies.append(body)
        api = "anthropic" if self.path.rstrip("/").endswith("/messages") else "openai"
        fault = server.next_fault()
        script = server.script
        if fault == "hang":
            self._wait_for_client_to_leave(None)
            return
        if not self._wait_for_client_to_leave(script.latency):
            return
        if fault in ("html", "empty"):
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>" if fault == "html" else b""
            self._send_raw(200, page, "text/html" if fault == "html" else "application/json")
            return
        if fault == "leak":
            self._send(400, _leak_body(key, api), {})
            return
        if fault.isdigit():
            status = int(fault)
            headers = {"retry-after": f"{script.retry_after}"} if status == 429 else {}
            # Like real APIs, a refused key is echoed back in the message.
            message = f"Incorrect API key provided: {key}" if status == 401 else "scripted"
            err = {"error": {"type": f"http_{status}", "message": message}}
            if api == "anthropic":
                err["type"] = "error"
            self._send(status, err, headers)
            return
        text, answer = _judge(body, script)
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 4096
        stop = "stop"
        if fault == "malformed":
            text = '{"criteria": [ this is not json'
        elif fault == "truncated" or len(text) // 4 > max_tokens:
            text, stop = text[: max(8, len(text) // 3)], "length"
        usage_in = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
        usage_in += len(str(body.get("system", ""))) // 4
        usage_out = max(1, len(text) // 4)
        asked = body.get("model", "test")
        reply = _openai_reply if api == "openai" else _anthropic_reply
        payload = reply(
            body, script.served.get(asked, asked), text, answer if fault == "ok" else None,
            stop, usage_in, usage_out,
        )  # fmt: skip
        if self._send(200, payload, {}):
            with server._lock:
                server.billed += 1
                server.delivered.append(fingerprint(body))

    def _wait_for_client_to_leave(self, seconds: float | None) -> bool:
        """Sleep `seconds` (forever if None); False as soon as the client has disconnected."""
        deadline = None if seconds is None else time.monotonic() + seconds
        sock = self.connection
        while deadline is None or time.monotonic() < deadline:
            if self.owner._stop.is_set():
                return False
            wait = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic()))
            readable, _, _ = select.select([sock], [], [], wait)
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return False
                except OSError:
                    return False
        return True

    def _send(self, status: int, payload: dict, headers: dict[str, str]) -> bool:
        return self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> bool:
        headers = headers or {}
        try:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            return False


def fingerprint(body: dict) -> str:
    """What identifies a call: its prompt (both APIs), whatever the transport around it."""
    prompt = {"system": body.get("system"), "messages": body.get("messages")}
    return hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()


def _leak_body(key: str, api: str) -> dict:
    """An error body without a "message" that quotes the key across the 300th character, then
    in pieces, as a debugging proxy might."""
    pieces = [key[i : i + 12] for i in range(0, len(key), 12)]
    detail = {
        "padding": "x" * 190,
        "echo": f"authorization: Bearer {key}",
        "pieces": pieces,
        "tail": f"key ends with {key[-10:]}; starts with {key[:9]}",
    }
    body: dict = {"error": {"type": "invalid_request_error", "detail": detail}}
    if api == "anthropic":
        body["type"] = "error"
    return body


def echo_answer(model: str, prompt: str) -> str:
    """Policy "echo" (a model generating, not judging): the model's name and the prompt back,
    or nothing when the prompt asks this model for silence ("[[SILENT model]]")."""
    return "" if f"[[SILENT {model}]]" in prompt else f"{model} answers: {prompt}"


def _judge(body: dict, script: Script) -> tuple[str, dict]:
    """The answer a deterministic judge gives to the prompt in `body`."""
    user = next(
        str(m.get("content")) for m in reversed(body.get("messages", [])) if m["role"] == "user"
    )
    if script.policy == "echo":
        return echo_answer(body.get("model", "test"), user), {}
    fenced = {m["label"]: m["body"] for m in FENCE.finditer(user)}
    first, second = fenced.get("FIRST RESPONSE", ""), fenced.get("SECOND RESPONSE", "")
    if script.policy == "rank":
        overall = rank_policy(first, second, script.ranking)
    else:
        overall = POLICIES[script.policy](first, second)
    hint = CRITERIA_HINT.search(user)
    names = [n.strip() for n in hint.group(1).split(",")] if hint else []
    better = {"first": "first", "second": "second", "tie": "same"}[overall]
    answer = {
        "criteria": [
            {"criterion": n, "reasoning": f"{n}: {better}", "better": better} for n in names
        ],
        "rationale": f"Policy {script.policy} chose {overall}.",
        "overall": overall,
    }
    return "Thinking it over.\n" + json.dumps(answer), answer


def _openai_reply(
    body: dict, model: str, text: str, answer: dict | None, stop: str, n_in: int, n_out: int
) -> dict:
    message: dict = {"role": "assistant", "content": text}
    if body.get("tools") and answer is not None:
        name = body["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(answer)},
                }
            ],
        }
        stop = "tool_calls"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": stop, "logprobs": None}],
        "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
    }


def _anthropic_reply(
    body: dict, model: str, text: str, answer: dict | None, stop: str, n_in: int, n_out: int
) -> dict:
    content: list[dict] = [{"type": "text", "text": text}]
    reason = "end_turn" if stop == "stop" else "max_tokens"
    if body.get("tools") and answer is not None:
        content = [
            {"type": "tool_use", "id": "toolu_1", "name": body["tools"][0]["name"], "input": answer}
        ]
        reason = "tool_use"
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": None,
        "usage": {"input_tokens": n_in, "output_tokens": n_out},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--policy", default="marker", choices=sorted([*POLICIES, "echo"]))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    srv = LLMServer(
        Script(
            policy=args.policy, latency=args.latency, fault_rate=args.fault_rate, seed=args.seed
        ),
        port=args.port,
    ).start()
    print(f"listening on {srv.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
