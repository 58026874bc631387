"""Processes take turns on one DuckDB file: a holder that keeps the file open while work keeps
coming (as `signoff app` does) hands it to a waiting process, and takes it back after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from conftest import DATA, ROOT

from reviewer.store import Store, connection
from reviewer.store.handoff import Handoff
from reviewer.study.annotators import add_annotators

# A process that holds the file as the app does, but lingers a whole minute: without turns a
# second process could not get in before its wait ran out.
LINGER = """
import sys, time
from reviewer.store import Store
store = Store(sys.argv[1], linger=60)
store.read(lambda cur: None)
print("held", flush=True)
time.sleep(120)
"""

# Annotators labeling flat out, with no pause between clicks, in a process of their own; it
# prints each label it saw confirmed, and stops when the file `stop` appears.
LABELING = """
import json, sys, threading
from pathlib import Path
from reviewer.labeling import session
from reviewer.store import Store

db, stop, tokens = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
store = Store(db, linger=60)
confirmed, lock = [], threading.Lock()

def annotate(token):
    who = session.login(store, token)
    view = session.open_next(store, who)
    while view is not None and not stop.exists():
        if session.submit(store, who, view.view_id, "1"):
            with lock:
                confirmed.append(view.view_id)
                if len(confirmed) == 1:
                    print("labeling", flush=True)
        view = session.open_next(store, who)
        session.progress(store, who)

threads = [threading.Thread(target=annotate, args=(t,)) for t in tokens]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(confirmed), flush=True)
"""


def child(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env
    )


@pytest.fixture
def lingering(db_path):
    Store(db_path).read(lambda cur: None)
    proc = child(LINGER, str(db_path))
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_lingering_holder_hands_the_file_to_a_waiting_process(db_path, lingering):
    assert Store(db_path, lock_timeout=30).read(
        lambda cur: cur.execute("SELECT 42").fetchone()
    ) == (42,)
    assert lingering.poll() is None  # the holder yielded; it did not stop


def test_a_cli_command_succeeds_while_annotators_click(cli, db_path, tmp_path, monkeypatch):
    assert cli("import", DATA / "support_pairs.jsonl", "-s", "s").code == 0
    tokens = [a.token for a in add_annotators(Store(db_path), "s", ["ann", "bo", "cy"], "t")]
    stop = tmp_path / "stop"
    proc = child(LABELING, str(db_path), str(stop), json.dumps(tokens))
    try:
        assert proc.stdout.readline().strip() == "labeling"
        monkeypatch.setenv("SIGNOFF_LOCK_TIMEOUT", "60")
        status = cli("status", "-s", "s", "--json")
        export = cli("labels", "export", "-s", "s", "--out", tmp_path / "labels.csv")
        busy = proc.poll() is None  # the annotators were still clicking throughout
    finally:
        stop.touch()
        out, _ = proc.communicate(timeout=120)
    assert status.code == 0 and export.code == 0 and busy
    assert (tmp_path / "labels.csv").read_text().startswith("pair_id,")
    confirmed = json.loads(out.strip().splitlines()[-1])
    stored = Store(db_path).read(
        lambda cur: [r[0] for r in cur.execute("SELECT view_id FROM labels").fetchall()]
    )
    # Every label an annotator saw confirmed is stored, once; nothing else was stored.
    assert sorted(stored) == sorted(confirmed) and len(set(stored)) == len(stored)
    assert len(confirmed) > 0


def test_nested_work_goes_on_and_new_work_waits_its_turn(db_path):
    """While another process waits, this process finishes the work it has begun (a cursor
    taken inside an open one is admitted at once) but starts nothing new: a second thread's
    read runs only after the waiter has had the file."""
    store = Store(db_path, linger=60)
    store.write(lambda cur: cur.execute("CREATE TABLE log (who VARCHAR, stamp DOUBLE)"))
    waiter_code = """
import sys, time
from reviewer.store import Store
Store(sys.argv[1], lock_timeout=60).write(
    lambda cur: cur.execute("INSERT INTO log VALUES ('waiter', ?)", [time.time()]))
"""
    order = []
    with store.cursor():
        waiter = child(waiter_code, str(db_path))
        deadline = time.monotonic() + 60
        while not Handoff(db_path).others_waiting():
            assert time.monotonic() < deadline and waiter.poll() is None
            time.sleep(0.01)
        time.sleep(connection._TURN)  # this process's turn is over
        store.write(lambda cur: cur.execute("INSERT INTO log VALUES ('nested', ?)", [time.time()]))
        other = threading.Thread(
            target=lambda: order.append(
                store.write(
                    lambda cur: cur.execute("INSERT INTO log VALUES ('other', ?)", [time.time()])
                )
            )
        )
        other.start()
        time.sleep(0.3)
        assert not order  # the other thread waits: the waiter goes first
    other.join(60)
    assert waiter.wait(60) == 0
    rows = store.read(lambda cur: cur.execute("SELECT who FROM log ORDER BY stamp").fetchall())
    assert [r[0] for r in rows] == ["nested", "waiter", "other"]


def test_the_handoff_file_is_not_created_for_a_missing_database(cli, tmp_path):
    assert cli("status", "--db", tmp_path / "typo.duckdb").code != 0
    assert not (tmp_path / "typo.duckdb.handoff").exists()
