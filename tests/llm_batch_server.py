"""The batch endpoints of the scripted LLM server (llm_server.py), enough for the official SDKs.

OpenAI: `POST /v1/files` (multipart upload, purpose batch), `POST /v1/batches`,
`GET /v1/batches/{id}`, `GET /v1/files/{id}/content` (the output and error files). Anthropic:
`POST /v1/messages/batches`, `GET /v1/messages/batches/{id}`,
`GET /v1/messages/batches/{id}/results`; and both lists of batches (`GET /v1/batches`,
`GET /v1/messages/batches`, newest first, one page). A batch answers "in progress" to its first
`BatchScript.polls` status checks, then processes every request at once with the server's
judging policy, and ends: completed, or expired when a request was scripted to expire. Per
request faults (in submission order, across batches): ok | error (the request fails) | expired
| malformed | truncated; and a create whose reply is never sent (`hang_create`: the batch
exists, the client never learns its id). The server records every request submitted in a batch
(by prompt fingerprint, and by model and fingerprint: one submitted twice shows up twice) and
every one it answered (what is billed).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any


@dataclass
class BatchScript:
    polls: int = 1  # status checks answered "in progress" before the batch ends
    faults: list[str] = field(default_factory=list)  # per request, consumed in order
    fail_next: int = 0  # OpenAI: the next this many batches fail validation as a whole
    # The next this many batches are created but the reply never sent (the client is killed
    # before it learns the id, or its connection drops).
    hang_create: int = 0


@dataclass
class Batches:
    """The batch state of one server: files, batches, and what was submitted and billed."""

    script: BatchScript = field(default_factory=BatchScript)
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict] = field(default_factory=dict)
    submitted: list[str] = field(default_factory=list)  # fingerprints, one per request sent
    paid: list[str] = field(default_factory=list)  # fingerprints of the requests answered
    # The same as (model, fingerprint): a generation run sends one prompt to several models.
    sent_to: list[tuple[str, str]] = field(default_factory=list)
    paid_by: list[tuple[str, str]] = field(default_factory=list)
    status_checks: dict[str, int] = field(default_factory=dict)  # batch id -> GETs
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{len(self.batches) + len(self.files) + 1:06d}"

    def wait_polled(self, proc: subprocess.Popen, count: int) -> None:
        """Return once `count` batches exist and each was polled twice (the benches kill the
        client then); exit if the client ended first."""
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"signoff exited early: {proc.stderr.read()}")
            ids = list(self.batches)
            if len(ids) == count and all(self.status_checks.get(i, 0) >= 2 for i in ids):
                return
            time.sleep(0.05)


def is_batch_path(path: str) -> bool:
    return path.startswith(("/v1/files", "/v1/batches", "/v1/messages/batches"))


def handle_post(handler: Any) -> None:
    """POST /v1/files, /v1/batches or /v1/messages/batches."""
    server, state = handler.owner, handler.owner.batch
    raw = handler.rfile.read(int(handler.headers.get("content-length", 0)))
    server.keys_seen.add(_key(handler))
    hang = False
    with state.lock:
        if handler.path.startswith("/v1/files"):
            payload = _upload(state, handler.headers.get("content-type", ""), raw)
        else:
            create = _openai_create if handler.path.startswith("/v1/batches") else _anthropic_create
            payload = create(state, json.loads(raw))
            hang = state.script.hang_create > 0
            state.script.hang_create -= hang
    if hang:
        handler._wait_for_client_to_leave(None)
        return
    handler._send(200, payload, {})


def handle_get(handler: Any) -> None:
    """GET a batch, an OpenAI file's content, or an Anthropic batch's results."""
    server, state = handler.owner, handler.owner.batch
    parts = handler.path.split("?")[0].strip("/").split("/")
    with state.lock:
        if parts[-1] == "batches":  # the list, newest first
            api = "anthropic" if parts[1] == "messages" else "openai"
            views = [_view(server, state, b) for b in state.batches.values() if b["api"] == api]
            views.reverse()
            first, last = (views[0]["id"], views[-1]["id"]) if views else (None, None)
            page = {"data": views, "has_more": False, "first_id": first, "last_id": last}
            handler._send(200, {**page, "object": "list"} if api == "openai" else page, {})
            return
        if parts[:2] == ["v1", "files"] and parts[-1] == "content":
            data = state.files.get(parts[2])
            if data is None:
                handler._send(404, {"error": {"message": "no such file"}}, {})
            else:
                handler._send_raw(200, data, "application/octet-stream")
            return
        batch = state.batches.get(parts[-2] if parts[-1] == "results" else parts[-1])
        if batch is None:
            handler._send(404, {"error": {"message": "no such batch"}, "type": "error"}, {})
            return
        if parts[-1] == "results":
            handler._send_raw(200, batch["results"], "application/binary")
            return
        state.status_checks[batch["id"]] = state.status_checks.get(batch["id"], 0) + 1
        if state.status_checks[batch["id"]] > state.script.polls and batch["done"] is None:
            _process(server, state, batch)
        handler._send(200, _view(server, state, batch), {})


def _key(handler: Any) -> str:
    auth = handler.headers.get("authorization", "").removeprefix("Bearer ")
    return auth or handler.headers.get("x-api-key", "")


def _upload(state: Batches, content_type: str, raw: bytes) -> dict:
    message = BytesParser(policy=HTTP).parsebytes(
        b"content-type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields = {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }
    file_id = state.new_id("file")
    state.files[file_id] = fields["file"]
    return {
        "id": file_id, "object": "file", "bytes": len(fields["file"]),
        "created_at": int(time.time()), "filename": "batch.jsonl",
        "purpose": fields.get("purpose", b"batch").decode(), "status": "processed",
    }  # fmt: skip


def _openai_create(state: Batches, body: dict) -> dict:
    lines = [json.loads(x) for x in state.files[body["input_file_id"]].splitlines() if x.strip()]
    requests = [(line["custom_id"], line["body"]) for line in lines]
    batch = _new(state, "batch", "openai", requests)
    batch.update(input_file_id=body["input_file_id"], metadata=body.get("metadata"))
    if state.script.fail_next:
        state.script.fail_next -= 1
        batch["done"] = "failed"
        state.submitted[-len(requests) :] = []  # refused before any request ran
        state.sent_to[-len(requests) :] = []
    return _openai_view(batch)


def _anthropic_create(state: Batches, body: dict) -> dict:
    requests = [(r["custom_id"], r["params"]) for r in body["requests"]]
    return _anthropic_view(None, _new(state, "msgbatch", "anthropic", requests))


def _new(state: Batches, prefix: str, api: str, requests: list[tuple[str, dict]]) -> dict:
    from llm_server import fingerprint

    batch = {
        "id": state.new_id(prefix), "api": api, "requests": requests, "done": None,
        "created_at": time.time(), "counts": {}, "results": b"",
    }  # fmt: skip
    state.batches[batch["id"]] = batch
    state.submitted += [fingerprint(body) for _, body in requests]
    state.sent_to += [(body.get("model", ""), fingerprint(body)) for _, body in requests]
    return batch


def _process(server: Any, state: Batches, batch: dict) -> None:
    """Run every request of the batch through the server's judge, with the scripted faults."""
    from llm_server import _anthropic_reply, _judge, _openai_reply, fingerprint

    out, errors, counts = [], [], {"ok": 0, "error": 0, "expired": 0}
    for custom_id, body in batch["requests"]:
        fault = state.script.faults.pop(0) if state.script.faults else "ok"
        if fault in ("error", "expired"):
            counts[fault] += 1
            errors.append(_failed(batch["api"], custom_id, fault))
            continue
        text, answer = _judge(body, server.script)
        stop = "stop"
        if fault == "malformed":
            text = '{"criteria": [ this is not json'
        elif fault == "truncated":
            text, stop = text[: max(8, len(text) // 3)], "length"
        n_in = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
        n_in += len(str(body.get("system", ""))) // 4
        model = server.script.served.get(body.get("model"), body.get("model", "test"))
        reply = _openai_reply if batch["api"] == "openai" else _anthropic_reply
        message = reply(
            body, model, text, answer if fault == "ok" else None, stop, n_in, max(1, len(text) // 4)
        )
        counts["ok"] += 1
        state.paid.append(fingerprint(body))
        state.paid_by.append((body.get("model", ""), fingerprint(body)))
        out.append(_succeeded(batch["api"], custom_id, message))
    batch["done"] = "expired" if counts["expired"] else "completed"
    batch["counts"] = counts
    if batch["api"] == "openai":
        batch["output_file_id"] = _store(state, out)
        batch["error_file_id"] = _store(state, errors) if errors else None
    else:
        batch["results"] = _jsonl(out + errors)


def _succeeded(api: str, custom_id: str, message: dict) -> dict:
    if api == "openai":
        response = {"status_code": 200, "request_id": f"req_{custom_id[:8]}", "body": message}
        return {"id": f"batch_req_{custom_id[:8]}", "custom_id": custom_id,
                "response": response, "error": None}  # fmt: skip
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def _failed(api: str, custom_id: str, fault: str) -> dict:
    if api == "openai":
        if fault == "expired":
            error = {"code": "batch_expired", "message": "not executed before the window expired"}
            return {"id": f"batch_req_{custom_id[:8]}", "custom_id": custom_id,
                    "response": None, "error": error}  # fmt: skip
        body = {"error": {"message": "scripted failure", "type": "server_error"}}
        response = {"status_code": 500, "request_id": "req_x", "body": body}
        return {"id": f"batch_req_{custom_id[:8]}", "custom_id": custom_id,
                "response": response, "error": None}  # fmt: skip
    if fault == "expired":
        return {"custom_id": custom_id, "result": {"type": "expired"}}
    error = {"type": "error", "error": {"type": "api_error", "message": "scripted failure"}}
    return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _store(state: Batches, rows: list[dict]) -> str:
    file_id = state.new_id("file")
    state.files[file_id] = _jsonl(rows)
    return file_id


def _view(server: Any, state: Batches, batch: dict) -> dict:
    return _openai_view(batch) if batch["api"] == "openai" else _anthropic_view(server, batch)


def _openai_view(batch: dict) -> dict:
    done, counts, n = batch["done"], batch["counts"], len(batch["requests"])
    view = {
        "id": batch["id"], "object": "batch", "endpoint": "/v1/chat/completions",
        "input_file_id": batch.get("input_file_id", ""), "completion_window": "24h",
        "status": done or "in_progress", "created_at": int(batch["created_at"]),
        "output_file_id": batch.get("output_file_id"), "error_file_id": batch.get("error_file_id"),
        "metadata": batch.get("metadata"), "errors": None,
        "request_counts": {"total": n, "completed": counts.get("ok", 0),
                           "failed": counts.get("error", 0) + counts.get("expired", 0)},
    }  # fmt: skip
    if done == "failed":
        view["errors"] = {"object": "list", "data": [{"code": "invalid", "message": "scripted"}]}
    return view


def _anthropic_view(server: Any, batch: dict) -> dict:
    created = datetime.fromtimestamp(batch["created_at"], UTC)
    counts, n, ended = batch["counts"], len(batch["requests"]), batch["done"] is not None
    results_url = None
    if ended and server is not None:
        results_url = f"{server.anthropic_url}/v1/messages/batches/{batch['id']}/results"
    return {
        "id": batch["id"], "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": {
            "processing": 0 if ended else n, "succeeded": counts.get("ok", 0),
            "errored": counts.get("error", 0), "canceled": 0, "expired": counts.get("expired", 0),
        },
        "created_at": created.isoformat(), "expires_at": (created + timedelta(days=1)).isoformat(),
        "ended_at": datetime.now(UTC).isoformat() if ended else None,
        "archived_at": None, "cancel_initiated_at": None, "results_url": results_url,
    }  # fmt: skip
