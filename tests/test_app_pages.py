"""Page logic through streamlit.testing.v1.AppTest over a real seeded DuckDB."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict

import pandas as pd
import pytest
from apphelp import MAIN, button, seed_sample, texts
from conftest import DATA, pair, write_jsonl
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint
from streamlit.testing.v1 import AppTest

from reviewer.labeling import session
from reviewer.store.connection import fetch_dicts


@pytest.fixture
def tokens(cli):
    return seed_sample(cli, "Ana", "Bo")


def page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def shown_view(store, annotator: str):
    """The latest view (what is on screen) for an annotator, straight from the database."""
    return store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, candidate_left FROM views WHERE annotator_id = ? "
            "ORDER BY shown_at DESC LIMIT 1",
            [annotator],
        ).fetchone()
    )


def labels_of(store, annotator: str):
    return store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, preference, both_bad, revision, criteria_json, candidate_left, "
            "shown_at IS NOT NULL FROM labels WHERE annotator_id = ? ORDER BY label_id",
            [annotator],
        ).fetchall()
    )


def test_unknown_token_and_no_token_get_no_data(tokens):
    at = page({"token": "not-a-real-token"})
    assert "this link is not valid" in texts(at)
    assert not any(b.label == "Response 1" for b in at.button)
    assert "Open the personal link" in texts(page({}))


def test_label_with_choice_and_criterion_is_translated_by_orientation(tokens, store):
    at = page({"token": tokens["Ana"]})
    assert "0 of 84 labeled" in at.get("progress")[0].proto.text
    pair_id, left = shown_view(store, "ana")
    button(at, "Response 1").click().run()
    at.segmented_control[0].set_value("2").run()  # correctness: Response 2 better
    button(at, "Submit").click().run()
    assert "Saved." in texts(at)
    assert "1 of 84 labeled" in at.get("progress")[0].proto.text
    (got,) = labels_of(store, "ana")
    assert got[0] == pair_id
    assert got[1] == ("candidate" if left else "baseline")
    assert got[4] == ('{"correctness": "baseline"}' if left else '{"correctness": "candidate"}')
    assert got[5] == left and got[6] is True
    assert shown_view(store, "ana")[0] != pair_id  # the next pair is on screen


def test_submit_without_a_choice_asks_for_one(tokens, store):
    at = page({"token": tokens["Ana"]})
    button(at, "Submit").click().run()
    assert "Pick Response 1, Response 2, Tie or Both bad first" in texts(at)
    assert labels_of(store, "ana") == []


def test_revise_previous_pair_adds_a_revision(tokens, store):
    at = page({"token": tokens["Ana"]})
    first, _ = shown_view(store, "ana")
    button(at, "Both bad").click().run()
    button(at, "Submit").click().run()
    button(at, "Previous pair").click().run()
    assert shown_view(store, "ana")[0] == first
    assert "You labeled this pair before" in texts(at)
    assert button(at, "Both bad").proto.type == "primary"  # earlier choice is selected
    button(at, "Tie").click().run()
    button(at, "Submit").click().run()
    rows = labels_of(store, "ana")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (first, "tie", True, 1),
        (first, "tie", False, 2),
    ]


def test_skip_moves_on_and_the_pair_comes_back_last(cli, tmp_path, store):
    # A study of 4 pairs and one annotator, driven through the page: skip the first pair, label
    # the 3 others, and the skipped one is on screen again, as the 4th and last.
    rows = [pair(i) for i in range(1, 5)]
    assert cli("import", write_jsonl(tmp_path / "four.jsonl", rows), "-s", "four").code == 0
    (ana,) = cli("annotators", "add", "Ana", "-s", "four", "--json").json()
    prompts = {r["id"]: r["prompt"] for r in rows}
    at = page({"token": ana["token"]})
    skipped, _ = shown_view(store, "ana")
    assert prompts[skipped] in texts(at)
    button(at, "Skip for now").click().run()
    assert labels_of(store, "ana") == []
    labeled = []
    for done in range(3):
        on_screen, _ = shown_view(store, "ana")
        assert on_screen != skipped and prompts[on_screen] in texts(at)
        assert f"{done} of 4 labeled" in at.get("progress")[0].proto.text
        labeled.append(on_screen)
        button(at, "Tie").click().run()
        button(at, "Submit").click().run()
    assert sorted(labeled) == sorted(set(prompts) - {skipped})
    assert shown_view(store, "ana")[0] == skipped
    assert prompts[skipped] in texts(at)
    assert "3 of 4 labeled" in at.get("progress")[0].proto.text
    assert [r[0] for r in labels_of(store, "ana")] == labeled


def test_a_skipped_pair_is_shown_after_every_other_pair_of_the_queue(tokens, store):
    """The labeling session (reviewer.labeling.session) on Ana's 84-pair queue: with the first
    view skipped, labeling until the queue is empty shows every other pair in queue order, then
    the skipped pair last, in the same orientation. Views are blind (no pair id), so pairs are
    recognised by their prompt and responses, taken from the pairs file itself."""
    with open(DATA / "support_pairs.jsonl", encoding="utf-8") as fh:
        by_id = {r["id"]: r for r in map(json.loads, fh)}
    queue = store.read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT pair_id, candidate_left FROM assignments WHERE study_id = 'demo' "
            "AND annotator_id = 'ana' ORDER BY position",
        )
    )
    assert len(queue) == 84

    def content(pair_id: str, candidate_left: bool) -> tuple:
        r = by_id[pair_id]
        if candidate_left:
            return (r["prompt"], r["candidate"], r["baseline"])
        return (r["prompt"], r["baseline"], r["candidate"])

    def shown(view) -> tuple:
        return (view.prompt, view.response_1, view.response_2)

    who = session.login(store, tokens["Ana"])
    first = session.open_next(store, who)
    assert shown(first) == content(queue[0]["pair_id"], queue[0]["candidate_left"])
    seen = []
    # Holding a cursor keeps the file open between the session's calls, as the app's lingering
    # store does; otherwise each of the 168 calls opens and closes the database file.
    with store.cursor():
        while (view := session.open_next(store, who, skipped=[first.view_id])) is not None:
            seen.append(shown(view))
            assert session.submit(store, who, view.view_id, "tie")
            assert len(seen) <= 84
    expected = [content(q["pair_id"], q["candidate_left"]) for q in queue[1:] + queue[:1]]
    assert seen == expected
    assert seen[-1] == shown(first) and shown(first) not in seen[:-1]
    assert session.progress(store, who).done == 84


def test_second_annotator_sees_only_their_own_queue(tokens, store):
    ana = page({"token": tokens["Ana"]})
    button(ana, "Response 2").click().run()
    button(ana, "Submit").click().run()
    bo = page({"token": tokens["Bo"]})
    assert "0 of 84 labeled" in bo.get("progress")[0].proto.text
    button(bo, "Previous pair").click().run()
    assert "There is no earlier label to revise." in texts(bo)


def test_admin_page_needs_the_secret(tokens, monkeypatch):
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    assert "This admin link is not valid" in texts(page({"admin": "guess"}))
    # An annotator token is no admin secret.
    assert "This admin link is not valid" in texts(page({"admin": tokens["Ana"]}))


def test_admin_page_shows_progress_and_correct_agreement(tokens, store, monkeypatch):
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    at = page({"admin": "s3cret"})
    assert "signoff · study admin" in texts(at)
    people = at.dataframe[0].value
    assert set(people["annotator"]) == {"Maya Chen (sample)", "Jonas Berg (sample)", "Ana", "Bo"}
    agreement = at.dataframe[2].value
    labels = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, annotator_id, preference FROM labels WHERE source LIKE 'import:%' "
            "ORDER BY pair_id"
        ).fetchall()
    )
    maya = {p: v for p, a, v in labels if a == "maya-chen-sample"}
    jonas = {p: v for p, a, v in labels if a == "jonas-berg-sample"}
    shared = sorted(maya.keys() & jonas.keys())
    expected = cohen_kappa_score([maya[p] for p in shared], [jonas[p] for p in shared])
    assert agreement.iloc[0]["shared"] == 40
    assert agreement.iloc[0]["kappa"] == pytest.approx(round(expected, 3))
    same = sum(maya[p] == jonas[p] for p in shared)
    assert agreement.iloc[0]["agreement"] == pytest.approx(round(same / len(shared), 3))


def test_admin_page_numbers_match_the_files_and_the_database(tokens, store, monkeypatch):
    """Every number the admin page shows, against the pairs and labels files read here and
    direct SQL on the study's DuckDB file (setup: 128 pairs, 80 imported labels by two
    imported annotators, Ana and Bo added with queues)."""
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    at = page({"admin": "s3cret"})
    with open(DATA / "support_pairs.jsonl", encoding="utf-8") as fh:
        stratum_of = {r["id"]: r["stratum"] for r in map(json.loads, fh)}
    with open(DATA / "sample_labels.csv", newline="", encoding="utf-8") as fh:
        csv_labels = list(csv.DictReader(fh))
    votes = defaultdict(dict)  # pair -> annotator name -> preference
    for row in csv_labels:
        votes[row["pair_id"]][row["annotator"]] = row["preference"]
    db = store.read(
        lambda cur: {
            "calibration": {
                r["pair_id"]
                for r in fetch_dicts(
                    cur, "SELECT pair_id FROM pairs WHERE study_id = 'demo' AND in_calibration"
                )
            },
            "queues": {
                r["annotator_id"]: r
                for r in fetch_dicts(
                    cur,
                    "SELECT annotator_id, count(*) AS assigned, "
                    "count(*) FILTER (in_calibration) AS calibration "
                    "FROM assignments WHERE study_id = 'demo' GROUP BY annotator_id",
                )
            },
            "frozen": fetch_dicts(cur, "SELECT frozen_at FROM studies")[0]["frozen_at"],
        }
    )

    # Overview metrics.
    metrics = {m.label: m.value for m in at.metric}
    calibration = db["calibration"]
    two_or_more = sum(len(votes[p]) >= 2 for p in calibration)
    assert len(stratum_of) == 128 and len(csv_labels) == 80 and len(calibration) == 40
    assert metrics == {
        "Pairs": str(len(stratum_of)),
        "Labels": str(len(csv_labels)),
        "Calibration pairs with 2+ labels": f"{two_or_more}/{len(calibration)}",
        "Frozen": db["frozen"].strftime("%Y-%m-%d"),
    }
    assert two_or_more == 40

    # Annotators. Queues: the 40 calibration pairs x 2 annotators each, plus the other
    # 88 pairs x 1 label, dealt over Ana and Bo: (80 + 88) / 2 = 84 each, 40 of them calibration.
    # Imported annotators have no queue: "assigned" is empty and "calibration" is their count.
    people = {r["annotator"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert set(people) == {"Maya Chen (sample)", "Jonas Berg (sample)", "Ana", "Bo"}
    for name in ("Maya Chen (sample)", "Jonas Berg (sample)"):
        labeled = {p for p, by in votes.items() if name in by}
        assert people[name]["role"] == "imported"
        assert people[name]["labeled"] == len(labeled) == 40
        assert pd.isna(people[name]["assigned"])
        assert people[name]["calibration"] == str(len(labeled & calibration)) == "40"
    for name, annotator_id in (("Ana", "ana"), ("Bo", "bo")):
        queue = db["queues"][annotator_id]
        assert (queue["assigned"], queue["calibration"]) == ((40 * 2 + 88) // 2, 40)
        assert people[name]["role"] == "annotator"
        assert people[name]["labeled"] == 0
        assert people[name]["assigned"] == queue["assigned"]
        assert people[name]["calibration"] == f"0/{queue['calibration']}"

    # Progress by stratum: pairs in the file, pairs with a label in the labels file.
    strata = {r["stratum"]: r for r in at.dataframe[1].value.to_dict("records")}
    assert {s: r["pairs"] for s, r in strata.items()} == Counter(stratum_of.values())
    assert {s: r["labeled pairs"] for s, r in strata.items()} == Counter(
        stratum_of[p] for p in votes
    )

    # Report table: one outcome per pair, the majority of its labels; with two labels that
    # disagree there is no majority, so a tie. Win rate = candidate / (candidate + baseline),
    # with statsmodels' Wilson interval; the page rounds to 3 decimals.
    outcome = {}
    for p, by in votes.items():
        prefs = list(by.values())
        assert len(prefs) == 2
        outcome[p] = prefs[0] if prefs[0] == prefs[1] else "tie"
    report = {r["stratum"]: r for r in at.dataframe[3].value.to_dict("records")}
    assert set(report) == {"overall", *stratum_of.values()}
    for name, row in report.items():
        mine = [o for p, o in outcome.items() if name in ("overall", stratum_of[p])]
        counts = Counter(mine)
        wins, decisive = counts["candidate"], counts["candidate"] + counts["baseline"]
        low, high = proportion_confint(wins, decisive, alpha=0.05, method="wilson")
        assert (row["candidate"], row["baseline"], row["tie"]) == (
            counts["candidate"],
            counts["baseline"],
            counts["tie"],
        )
        assert row["win rate"] == pytest.approx(round(wins / decisive, 3))
        assert (row["low"], row["high"]) == (
            pytest.approx(round(low, 3)),
            pytest.approx(round(high, 3)),
        )
    # The overall row, written out: 15 wins, 6 losses, 19 ties; 15/21 = 0.714.
    assert (report["overall"]["candidate"], report["overall"]["baseline"]) == (15, 6)
    assert report["overall"]["tie"] == 19 and report["overall"]["win rate"] == 0.714


def test_admin_adds_annotators_and_shows_links(tokens, monkeypatch, store):
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    at = page({"admin": "s3cret"})
    at.text_area[0].set_value("Cy\nDee")
    at.button(key="FormSubmitter:add_annotators-Add and show their links").click().run()
    links = [c.value for c in at.code]
    assert len(links) == 2 and all("/?token=" in link for link in links)
    ids = store.read(
        lambda cur: [
            r[0]
            for r in cur.execute(
                "SELECT annotator_id FROM annotators WHERE role = 'annotator' ORDER BY 1"
            ).fetchall()
        ]
    )
    assert ids == ["ana", "bo", "cy", "dee"]


def test_revoked_token_is_refused_and_its_pairs_reassigned(tokens, cli, store):
    ana = page({"token": tokens["Ana"]})
    button(ana, "Response 1").click().run()
    button(ana, "Submit").click().run()
    r = cli("annotators", "revoke", "ana", "-s", "demo")
    assert r.code == 0 and "revoked 'ana'" in r.out
    assert "this link is not valid" in texts(page({"token": tokens["Ana"]}))
    queues = dict(
        store.read(
            lambda cur: cur.execute(
                "SELECT annotator_id, count(*) FROM assignments GROUP BY 1"
            ).fetchall()
        )
    )
    assert queues == {"bo": 128}  # every pair now goes to the one annotator left
    assert store.read(
        lambda cur: cur.execute("SELECT count(*) FROM labels WHERE annotator_id = 'ana'").fetchone()
    ) == (1,)
    assert "no active annotator 'ana'" in cli("annotators", "revoke", "ana", "-s", "demo").err


def test_a_pick_on_a_link_revoked_while_the_page_is_open_says_so(tokens, cli, store):
    ana = page({"token": tokens["Ana"]})
    assert cli("annotators", "revoke", "ana", "-s", "demo").code == 0
    button(ana, "Response 1").click().run()
    shown = texts(ana)
    assert "Not saved: this link is no longer valid" in shown
    assert "this link is not valid" in shown
    assert not any(b.label == "Submit" for b in ana.button)
    assert store.read(
        lambda cur: cur.execute("SELECT count(*) FROM labels WHERE annotator_id = 'ana'").fetchone()
    ) == (0,)


def test_admin_report_section_and_blinding(cli, tmp_path, monkeypatch, store):
    from conftest import DATA

    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    cfg = tmp_path / "blind.toml"
    sample = (DATA / "support_study.toml").read_text()
    cfg.write_text(sample.replace("[signoff]", "[signoff]\nblind_admin_until_unblinded = true"))
    cli("import", DATA / "support_pairs.jsonl", "-s", "demo", "--config", cfg)
    cli("labels", "import", DATA / "sample_labels.csv", "-s", "demo")
    at = page({"admin": "s3cret"})
    assert "stay hidden until the study is unblinded" in texts(at)
    assert "BLOCKED" not in texts(at)
    assert all("deciding rate" not in d.value.columns for d in at.dataframe)
    cli("unblind", "-s", "demo")
    at = page({"admin": "s3cret"})
    # Schema 2: ties count as not a win, so the demo's 40 items are 40 comparisons (not 21
    # decisive pairs, which used to leave it NOT ENOUGH EVIDENCE below the 30 minimum), and
    # stratum 'hard' (2 wins, 6 ties, 2 losses) falls below the 40% floor.
    assert "BLOCKED" in texts(at)
    assert (
        "stratum 'hard' collapses: candidate preferred on 20% of 10 comparisons "
        "(ties count as not a win)" in texts(at)
    )
    assert "38% of 40 comparisons" in texts(at)
    assert "more pairs would likely decide it" in texts(at)  # the enough-evidence line
    rules = {r["tie rule"]: r for r in at.dataframe[4].value.to_dict("records")}
    assert rules["ties count as not a win"]["decides"]
    assert rules["ties count as not a win"]["rate"] == 0.375  # 15 / 40
    assert rules["ties count half"]["rate"] == pytest.approx(0.612, abs=1e-3)  # 24.5 / 40
    assert rules["ties excluded"]["rate"] == 0.714  # 15 / 21
    assert "Both bad:** 0 of 40 items" in texts(at)


def test_admin_calibrates_the_judge_and_the_gate_guards_the_full_run(
    tokens, store, monkeypatch, llm, rubric_file
):
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    rubric_file.write_text((DATA / "support_rubric.toml").read_text())
    at = page({"admin": "s3cret"})
    at.text_input(key="judge_rubric_path").input(str(rubric_file))
    at.text_input(key="judge_model").input("m")
    at.text_input(key="judge_base_url").input(llm.openai_url)
    button(at, "Estimate cost (development pairs)").click().run()
    # 40 calibration pairs, 30% held out: 28 in the development part, judged in both orders.
    assert "56 verdicts wanted, 0 already cached" in at.code[-1].value
    assert llm.requests == 0
    button(at, "Calibrate (development pairs)").click().run()
    assert "56/56 verdicts stored for m." in texts(at)
    summary = at.code[-1].value
    assert f"from cache: 0; calls made: {llm.billed} (0 retries)" in summary
    assert "gate: not decided yet" in summary
    button(at, "Final check (held-out pairs)").click().run()
    assert "80/80 verdicts stored for m." in texts(at)
    assert "gate (held-out pairs): FAILED" in at.code[-1].value
    versions = next(d.value for d in at.dataframe if "part" in d.value.columns)
    assert list(versions["part"]) == ["development", "held-out"]
    assert list(versions["gate"]) == ["—", "failed"]
    assert any(e.label.startswith("ldg-") for e in at.expander)  # the disagreement browser
    # The full run is refused without an override, and goes with one.
    button(at, "Run on all pairs").click().run()
    assert "failed the gate on the held-out calibration pairs" in texts(at)
    at.text_input(key="judge_override").input("demo only")
    button(at, "Run on all pairs").click().run()
    assert "256/256 verdicts stored for m." in texts(at)
    n = store.read(lambda cur: cur.execute("SELECT count(*) FROM verdicts").fetchone()[0])
    assert n == 256
