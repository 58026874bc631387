"""Batch judging benchmark (issue 15): a 20,000-pair run (40,000 requests, both orders) through
OpenAI's Batch API on the scripted server, killed with SIGKILL while it polls, then resumed.

Done means: every verdict in, 0 requests submitted twice, 0 answers paid twice, every call
recorded at the batch price. And signoff's own overhead per 10,000 requests: the wall time of
both processes minus the time they spent waiting between polls and the server's time processing
the batch (what a provider does in its own data centre), and their CPU time.

Run: python bench/batch_bench.py [--pairs 20000] [--poll-interval 0.5] [--batch-size 50000]
The server runs in this process (a thread: its batch state is read directly); every `signoff`
command is a subprocess, timed end to end (start-up included), its CPU from the children's
rusage.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
RUBRIC = ROOT / "data" / "support_rubric.toml"

import llm_batch_server  # noqa: E402
from llm_server import MARKER, LLMServer  # noqa: E402

PRICE = 2.0  # USD per million tokens, input and output (the batch price is half)


def write_pairs(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            good = MARKER if i % 2 else ""
            f.write(json.dumps({
                "id": f"q{i:06d}", "prompt": f"How do I reset my password, case {i}?",
                "candidate": f"Go to settings, then security, case {i}. {good}",
                "baseline": f"Contact support about case {i}.", "stratum": f"s{i % 4}",
            }) + "\n")  # fmt: skip


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_server(server: LLMServer) -> list[float]:
    """Time the server spends processing batches (a provider's work, not signoff's)."""
    spent: list[float] = []
    process = llm_batch_server._process

    def timed(*args: object) -> None:
        t0 = time.perf_counter()
        process(*args)
        spent.append(time.perf_counter() - t0)

    llm_batch_server._process = timed
    return spent


def judge_cmd(db: Path, server: LLMServer, prices: Path, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "reviewer", "judge", "run", "--db", str(db), "--study", "bench",
        "--rubric", str(RUBRIC), "--provider", "openai", "--base-url", server.openai_url,
        "--model", "m", "--prices", str(prices), "--pairs", "all", "--batch",
        "--poll-interval", str(args.poll_interval), "--batch-size", str(args.batch_size),
        "--override", "batch benchmark", "--json",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=50_000)
    args = parser.parse_args()
    requests = 2 * args.pairs
    batches = -(-requests // args.batch_size)
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    server = LLMServer().start()
    server.httpd.handle_error = lambda *a: None  # the killed client's reset connection
    processing = timed_server(server)
    server.batch.script = llm_batch_server.BatchScript(polls=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        db, pairs, prices = Path(tmp) / "b.duckdb", Path(tmp) / "p.jsonl", Path(tmp) / "p.toml"
        write_pairs(pairs, args.pairs)
        prices.write_text(f"[m]\ninput = {PRICE}\noutput = {PRICE}\n")
        imp = [sys.executable, "-m", "reviewer", "import", str(pairs), "--db", str(db),
               "--study", "bench"]  # fmt: skip
        subprocess.run(imp, check=True, capture_output=True)
        cmd = judge_cmd(db, server, prices, args)
        cpu0, t0 = child_cpu(), time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        server.batch.wait_polled(proc, batches)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first_wall, first_cpu = time.perf_counter() - t0, child_cpu() - cpu0
        submitted_before = len(server.batch.submitted)
        # The batches now end after two more "in progress" answers.
        server.batch.status_checks.clear()
        server.batch.script.polls = 2
        cpu0, t0 = child_cpu(), time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        second_wall, second_cpu = time.perf_counter() - t0, child_cpu() - cpu0
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        summary = json.loads(done.stdout)
        times = (first_wall, first_cpu, second_wall, second_cpu)
        report(args, summary, server, processing, submitted_before, times, db)
    server.stop()


def report(args, summary, server, processing, submitted_before, times, db) -> None:
    from reviewer.store import Store

    first_wall, first_cpu, second_wall, second_cpu = times
    requests = 2 * args.pairs
    state = server.batch
    cost, tokens, rows = Store(db).read(
        lambda cur: cur.execute(
            "SELECT sum(cost_usd), sum(input_tokens + output_tokens), count(*) FROM judge_calls"
        ).fetchone()
    )
    own = second_wall - summary["poll_wait_seconds"] - sum(processing)
    # The killed run is timed until its batches were polled twice: start-up, planning, the
    # upload and submit, one wait of the poll interval between the two checks, and this
    # script's 50 ms detection step.
    first_own = first_wall - args.poll_interval
    per = 10_000 / requests
    lines = [
        f"pairs {args.pairs}, requests {requests}, batch size {args.batch_size}, "
        f"poll interval {args.poll_interval} s",
        f"killed run: {first_wall:.1f} s wall until its {len(state.batches)} batches were polled "
        f"twice and SIGKILL, {first_cpu:.1f} s CPU; requests submitted {submitted_before}",
        f"resumed run: {second_wall:.1f} s wall, {second_cpu:.1f} s CPU; waiting between polls "
        f"{summary['poll_wait_seconds']:.1f} s, server processing {sum(processing):.1f} s; "
        f"resumed {summary['resumed']}, submitted {summary['submitted']}",
        f"verdicts {summary['verdicts']}/{summary['needed']}; requests submitted "
        f"{len(state.submitted)} ({len(state.submitted) - len(set(state.submitted))} twice); "
        f"answers paid {len(state.paid)} ({len(state.paid) - len(set(state.paid))} twice)",
        f"calls logged {rows}; cost ${cost:.4f} for {tokens} tokens = "
        f"${tokens * PRICE / 2e6:.4f} at the batch price (online ${tokens * PRICE / 1e6:.4f})",
        f"signoff overhead per 10,000 requests: submit {first_own * per:.1f} s wall "
        f"({first_cpu * per:.1f} s CPU), collect {own * per:.1f} s wall "
        f"({second_cpu * per:.1f} s CPU)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
