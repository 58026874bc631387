"""Labeling latency on a 10,000-pair study with 20 annotators (issue 3).

Targets: server side p95 <= 50 ms, in the browser p95 <= 300 ms, submit to next pair rendered.

- server: 20 threads, one per annotator, each repeating what the page does on submit: store the
  label and show the next pair with the progress, in one transaction, from the session's queue
  (session.submit_and_next with a session.Queue), timed per cycle, against one Store configured
  as in the app process. Each annotator then reads the next pair for a think time drawn
  uniformly from 2-6 s (about 15 labels a minute, faster than a careful expert). A second run
  with no think time at all (20 bots clicking flat out) is reported as a stress figure.
- browser: one annotator in headless Debian chromium against a real `signoff app` server on the
  same study (after the 20 annotators' labels above), timed inside the page from the Enter
  keydown to the first moment the next pair is fully rendered: the progress shows the new count,
  the script run is over and no stale element is left (a MutationObserver checks on every DOM
  change, so Playwright's polling is not counted). The server is a separate process and DuckDB
  allows one process on a file at a time, so no load from this script runs during that phase:
  concurrency is what the server-side figure measures.

Run: python bench/label_latency.py [--pairs 10000] [--annotators 20] [--rounds 30]
[--browser-only]. The load of many annotators through the real app: bench/app_load.py.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import AppServer, browser, choose, wait_for_pair  # noqa: E402

from reviewer.app.context import APP_LINGER_SECONDS  # noqa: E402
from reviewer.config import StudyConfig  # noqa: E402
from reviewer.ingest.pairs import load_pairs  # noqa: E402
from reviewer.labeling import session  # noqa: E402
from reviewer.store import Store  # noqa: E402
from reviewer.study.annotators import add_annotators  # noqa: E402
from reviewer.study.lifecycle import import_study  # noqa: E402


def build(db: Path, pairs: int, annotators: int) -> dict[str, str]:
    rng = random.Random(1)
    words = [
        "account",
        "invoice",
        "refund",
        "plan",
        "export",
        "bank",
        "reminder",
        "tax",
        "currency",
        "user",
    ]
    src = db.parent / "pairs.jsonl"
    with open(src, "w") as f:
        for i in range(pairs):
            text = " ".join(rng.choices(words, k=150))
            f.write(
                json.dumps(
                    {
                        "id": f"q{i:05d}",
                        "prompt": f"Question {i}: {text[:200]}",
                        "candidate": f"A {text}",
                        "baseline": f"B {text[::-1]}",
                        "stratum": ["routine", "hard", "edge", "refusal"][i % 4],
                    }
                )
                + "\n"
            )
    store = Store(db)
    pairset = load_pairs(src, 100_000)
    import_study(store, "latency", pairset, StudyConfig(), "bench")
    made = add_annotators(store, "latency", [f"A{i}" for i in range(annotators)], "bench")
    return {a.display_name: a.token for a in made}


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, n={len(samples)}"


def server_side(
    db: Path, tokens: list[str], rounds: int, think: tuple[float, float]
) -> list[float]:
    """Each thread labels `rounds` pairs, pausing `think` seconds (uniform) between them;
    returns per-cycle times in ms."""
    store = Store(db, linger=APP_LINGER_SECONDS)
    times: list[float] = []
    lock = threading.Lock()

    def annotate(token: str) -> None:
        who = session.login(store, token)
        rng = random.Random(token)
        time.sleep(rng.uniform(0, think[1]))  # annotators do not start in lockstep
        queue = session.Queue(who.study_id, who.annotator_id)
        view = session.next_page(store, who, queue=queue).view
        n = 0
        while view is not None and n < rounds:
            time.sleep(rng.uniform(*think))
            start = time.perf_counter()
            choice = rng.choice(["1", "2", "tie"])
            view = session.submit_and_next(store, who, view.view_id, choice, queue=queue).view
            with lock:
                times.append((time.perf_counter() - start) * 1000)
            n += 1

    threads = [threading.Thread(target=annotate, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


IN_PAGE_TIMER = """
() => {
  const responseText = () => {
    // The two response boxes (reviewer/app/components/pair_view.py).
    const blocks = document.querySelectorAll('.so-box');
    return Array.from(blocks).map((b) => b.innerText).join('|');
  };
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    window.__t0 = performance.now();
    window.__before = responseText();
    window.__rendered = null;
    window.__settled = null;
  }, true);
  new MutationObserver(() => {
    if (window.__t0 == null) return;
    const now = performance.now();
    const text = document.body.innerText;
    if (window.__rendered == null && text.includes(window.__expect)
        && responseText() !== window.__before) {
      window.__rendered = now - window.__t0;
    }
    const app = document.querySelector('.stApp');
    if (window.__rendered != null && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelectorAll('[data-stale="true"]').length) {
      window.__settled = now - window.__t0;
      window.__t0 = null;
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             characterData: true});
}
"""


def in_browser(
    db: Path, token: str, total: int, done: int, rounds: int, work: Path
) -> list[tuple[float, float]]:
    server = AppServer(db, work / "server.log").start()
    times = []
    try:
        with browser() as b:
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.url}/?token={token}")
            wait_for_pair(page, done, total, timeout=60000)
            page.evaluate(IN_PAGE_TIMER)
            for i in range(done + 1, done + rounds + 1):
                choose(page, "1")
                page.evaluate(f"window.__expect = '{i} of {total} labeled'")
                page.keyboard.press("Enter")
                wait_for_pair(page, i, total)
                times.append(page.evaluate("[window.__rendered, window.__settled]"))
    finally:
        server.stop()
    return times


def server_phases(db: Path, everyone: list[str], args: argparse.Namespace) -> None:
    realistic = server_side(db, everyone, args.rounds, (2.0, 6.0))
    print(
        f"server side, {args.annotators} annotators thinking 2-6 s, {args.pairs} pairs: "
        f"{percentiles(realistic)}"
    )
    stress = server_side(db, everyone, args.rounds, (0.0, 0.0))
    print(
        f"server side, {args.annotators} annotators with no think time (stress): "
        f"{percentiles(stress)}"
    )
    done = Store(db).read(
        lambda cur: cur.execute(
            "SELECT count(DISTINCT pair_id) FROM labels WHERE annotator_id = 'a0'"
        ).fetchone()[0]
    )
    assert done == 2 * args.rounds, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--browser-only", action="store_true", help="skip the server-side runs (issue 17)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "latency.duckdb"
        tokens = build(db, args.pairs, args.annotators)
        names = list(tokens)
        store = Store(db)
        total = store.read(
            lambda cur: cur.execute(
                "SELECT count(*) FROM assignments WHERE annotator_id = 'a0'"
            ).fetchone()[0]
        )
        if not args.browser_only:
            server_phases(db, [tokens[n] for n in names], args)
        done = store.read(
            lambda cur: cur.execute(
                "SELECT count(DISTINCT pair_id) FROM labels WHERE annotator_id = 'a0'"
            ).fetchone()[0]
        )
        seen = in_browser(db, tokens[names[0]], total, done, args.rounds, work)
        print(f"browser, Enter to next pair rendered: {percentiles([r for r, _ in seen])}")
        print(
            f"browser, Enter to page settled (next key safe): {percentiles([s for _, s in seen])}"
        )


if __name__ == "__main__":
    main()
