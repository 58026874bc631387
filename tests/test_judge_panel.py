"""Judge panels end to end: members on their own scripted servers (one speaks the Anthropic
API), disagreeing on chosen pairs; the panel's majority and its splits recomputed here from the
members' scripted tastes; each member's figures equal to calibrating it alone; the gate
refusing a panel that fails it; the report and the admin page."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from conftest import DATA
from llm_server import LLMServer, Script
from sklearn.metrics import cohen_kappa_score
from streamlit.testing.v1 import AppTest

from reviewer.judging.scope import calibration_parts
from reviewer.store import Store
from reviewer.store import studies as study_sql
from reviewer.store.connection import fetch_dicts

CONFIG = """
seed = 11
[calibration]
size = 40
holdout_fraction = 0.30
[gate]
min_usable_pairs = 10
position_consistency_floor = 0.80
"""


def rank(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def side(a: float, b: float) -> str:
    return "candidate" if a > b else "baseline" if b > a else "tie"


def noisy(text: str) -> bool:
    return int(hashlib.sha256(b"noise" + text.encode()).hexdigest()[:4], 16) % 4 == 0


# Each member's taste: a score per text (the scripted server's "rank" policy prefers the
# higher one). a shares the experts' taste; b reverses it on some texts; c sees only four
# levels of quality, so it has no preference between texts of the same level; anti is the
# experts' opposite.
TASTES = {
    "a": rank,
    "b": lambda t: 1 - rank(t) if noisy(t) else rank(t),
    "c": lambda t: round(rank(t) * 3) / 3,
    "anti": lambda t: -rank(t),
}


def expected(member: str, pair: dict) -> str:
    """What the scripted member decides on a pair (in either order), from its taste."""
    score = TASTES[member]
    return side(score(pair["candidate"]), score(pair["baseline"]))


def majority(outcomes: list[str]) -> str:
    """The most common outcome; a tie at the top is a split, and a split is a tie."""
    (top, n), *rest = Counter(outcomes).most_common()
    return "tie" if rest and rest[0][1] == n else top


def server(member: str, pairs: list[dict]) -> LLMServer:
    texts = {t for p in pairs for t in (p["candidate"], p["baseline"])}
    ranking = {t: TASTES[member](t) for t in texts}
    return LLMServer(Script(policy="rank", ranking=ranking)).start()


def seed(cli, tmp_path, store, *db: str) -> list[dict]:
    """Import the sample study and the experts' labels (into `db` when given)."""
    config = tmp_path / "study.toml"
    config.write_text(CONFIG)
    args = ("-s", "p", *db)
    assert cli("import", DATA / "support_pairs.jsonl", "--config", config, *args).code == 0
    pairs = store.read(
        lambda cur: fetch_dicts(
            cur, "SELECT pair_id, candidate, baseline, in_calibration FROM pairs ORDER BY pair_id"
        )
    )
    rows = ["pair_id,annotator,preference"]
    for k, p in enumerate(pairs):
        truth = side(rank(p["candidate"]), rank(p["baseline"]))
        p["labels"] = []
        if not p["in_calibration"]:
            continue
        for who in ("ana", "bo"):
            pref = truth
            if who == "bo" and k % 11 == 0:
                pref = {"candidate": "baseline", "baseline": "candidate", "tie": "candidate"}[pref]
            rows.append(f"{p['pair_id']},{who},{pref}")
            p["labels"].append(pref)
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    assert cli("labels", "import", labels, *args).code == 0
    return pairs


@pytest.fixture
def study(cli, tmp_path, store) -> list[dict]:
    return seed(cli, tmp_path, store)


@pytest.fixture
def servers(study, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    running = {m: server(m, study) for m in TASTES}
    yield running
    for s in running.values():
        s.stop()


def member(name: str, servers: dict) -> str:
    """b speaks the Anthropic API; the others are OpenAI-compatible servers."""
    if name == "b":
        return f"b=anthropic:judge-b@{servers['b'].anthropic_url}"
    return f"{name}=openai-compatible:judge-{name}@{servers[name].openai_url}"


def panel_args(servers: dict, *names: str) -> list[str]:
    members = [a for n in names for a in ("--member", member(n, servers))]
    return ["-s", "p", "--rubric", str(DATA / "support_rubric.toml"), *members]


def held_out_ids(store) -> set[str]:
    def work(cur):
        return calibration_parts(cur, "p", study_sql.get_study(cur, "p").config)[1]

    return store.read(work)


def test_a_panel_votes_by_majority_is_gated_and_scores_the_full_set(
    cli, study, servers, store, tmp_path
):
    by_id = {p["pair_id"]: p for p in study}
    own = {m: {i: expected(m, p) for i, p in by_id.items()} for m in ("a", "b", "c")}
    panel = {i: majority([own[m][i] for m in own]) for i in by_id}
    splits = [i for i in by_id if len(set(own[m][i] for m in own)) == 3]
    assert splits and all(panel[i] == "tie" for i in splits)  # the members do disagree
    assert any(own["a"][i] != own["b"][i] for i in by_id)

    dev = cli("judge", "panel", "calibrate", *panel_args(servers, "a", "b", "c"))
    assert dev.code == 0, dev.err
    assert "gate: not decided yet" in dev.out
    side_by_side = dev.out.split("panel and members side by side (development pairs")[1]
    assert "  panel panel of a, b, c (panel:" in side_by_side
    assert "  member b (judge:" in side_by_side and "both orders agree 1.00 [" in side_by_side
    refused = cli("judge", "panel", "run", *panel_args(servers, "a", "b", "c"), "--pairs", "all")
    assert refused.code == 5 and "signoff judge panel calibrate" in refused.err

    r = cli("judge", "panel", "calibrate", *panel_args(servers, "a", "b", "c"), "--final", "--json")
    assert r.code == 0, r.out
    result = r.json()
    held_out = sorted(held_out_ids(store))
    deciding = result["panel"]["deciding"]
    assert result["panel"]["gate"]["passed"] and deciding["part"] == "held-out"
    assert result["panel"]["judge_id"].startswith("panel:")
    # The panel against each human label, recomputed with scikit-learn from the majority.
    label_pairs = [(panel[i], h) for i in held_out for h in by_id[i]["labels"]]
    kappa = cohen_kappa_score([j for j, _ in label_pairs], [h for _, h in label_pairs])
    assert deciding["vs_humans_with_ties"]["kappa"]["value"] == pytest.approx(kappa)
    agreement = sum(j == h for j, h in label_pairs) / len(label_pairs)
    assert deciding["vs_humans_with_ties"]["agreement"]["value"] == pytest.approx(agreement)
    assert deciding["usable"] == len(held_out) and deciding["flip_rate"] == 0
    # Each member's figures beside the panel's, as `judge calibrate` gives them for it alone.
    assert [m["name"] for m in result["members"]] == ["a", "b", "c"]
    for m in result["members"]:
        label_pairs = [(own[m["name"]][i], h) for i in held_out for h in by_id[i]["labels"]]
        agreement = sum(j == h for j, h in label_pairs) / len(label_pairs)
        assert m["deciding"]["vs_humans_with_ties"]["agreement"]["value"] == pytest.approx(
            agreement
        )
    alone = calibrate_alone(cli, tmp_path, servers, "b")
    assert alone["judge_id"] == result["members"][1]["judge_id"]
    for part in ("development", "deciding", "gate"):
        assert alone[part] == result["members"][1][part]
    _admin_shows_the_panel_beside_its_members(store, result)

    assert (
        cli("judge", "panel", "run", *panel_args(servers, "a", "b", "c"), "--pairs", "all").code
        == 0
    )
    report = cli("report", "-s", "p", "--format", "json").json()
    (row,) = [j for j in report["judges"] if j["provider"] == "panel"]
    assert row["gate"]["status"] == "passed"
    assert [m["name"] for m in row["members"]] == ["a", "b", "c"]
    counts = Counter(panel.values())
    w = row["result"]["win_rate"]
    assert (w["items"], w["candidate"], w["baseline"], w["tie"]) == (
        len(panel),
        counts["candidate"],
        counts["baseline"],
        counts["tie"],
    )
    members = {j["name"]: j for j in report["judges"] if j["provider"] != "panel"}
    assert set(members) == {"a", "b", "c"}
    for name, j in members.items():
        mine = Counter(own[name].values())
        assert j["result"]["win_rate"]["tie"] == mine["tie"]
    html = tmp_path / "r.html"
    assert cli("report", "-s", "p", "--format", "html", "--out", html).code == 0
    page = html.read_text()
    assert "Judge panel of a, b, c" in page
    assert "panel of (majority of the members&#39; verdicts over both orders" in page


def calibrate_alone(cli, tmp_path, servers, name: str) -> dict:
    """The member calibrated as a single judge, in a database of its own (nothing cached)."""
    other = tmp_path / "alone.duckdb"
    seed(cli, tmp_path, Store(other), "--db", str(other))
    _, spec = member(name, servers).split("=", 1)
    provider, rest = spec.split(":", 1)
    model, url = rest.split("@", 1)
    r = cli(
        "judge", "calibrate", "--db", other, "-s", "p", "--rubric", DATA / "support_rubric.toml",
        "--provider", provider, "--model", model, "--base-url", url, "--name", name, "--final",
        "--json",
    )  # fmt: skip
    assert r.code in (0, 5), r.err
    return r.json()


def _admin_shows_the_panel_beside_its_members(store, result: dict) -> None:
    def section(db: str) -> None:
        from reviewer.app.components import panel_of_judges
        from reviewer.store import Store

        panel_of_judges.render(Store(db), "p")

    at = AppTest.from_function(section, args=(str(store.path),), default_timeout=30).run()
    assert not at.exception
    (table,) = [d.value for d in at.dataframe]
    held = table[table["part"] == "held-out"]
    assert list(held["role"]) == ["panel", "member", "member", "member"]
    assert list(held["judge"]) == ["panel of a, b, c", "a", "b", "c"]
    for (_, line), who in zip(held.iterrows(), [result["panel"], *result["members"]], strict=True):
        kappa = who["deciding"]["vs_humans_with_ties"]["kappa"]
        assert line["kappa with each human label"].startswith(f"{kappa['value']:.2f} [")
        assert line["gate"] == ("passed" if who["gate"]["passed"] else "failed")


def test_a_panel_that_fails_the_gate_is_refused_the_full_set(cli, study, servers, store):
    """a and its opposite split on every pair: the panel says tie everywhere and carries no
    information, whatever a alone is worth. Calibrated from the admin page."""

    def page(db: str) -> None:
        from reviewer.app.components import panel_of_judges
        from reviewer.store import Store

        panel_of_judges.render(Store(db), "p")

    at = AppTest.from_function(page, args=(str(store.path),), default_timeout=60).run()
    at.text_input(key="panel_rubric_path").input(str(DATA / "support_rubric.toml"))
    at.text_area(key="panel_members").input(member("a", servers) + "\n" + member("anti", servers))
    next(b for b in at.button if b.label.startswith("Final check")).click()
    at.run()
    assert not at.exception and not at.error
    assert "gate (held-out pairs): FAILED" in at.code[0].value
    (table,) = [d.value for d in at.dataframe]
    held = table[table["part"] == "held-out"].set_index("judge")
    assert held.loc["panel of a, anti", "gate"] == "failed" and held.loc["a", "gate"] == "passed"
    assert held.loc["anti", "gate"] == "failed"

    args = panel_args(servers, "a", "anti")
    refused = cli("judge", "panel", "run", *args, "--pairs", "all")
    assert refused.code == 5 and "failed the gate on the held-out calibration pairs" in refused.err
    count = "SELECT count(*) FROM verdicts"
    assert store.read(lambda cur: cur.execute(count).fetchone()[0]) == 2 * 2 * 40
    # a alone passed, but the panel is the judge asked for: its own gate decides.
    again = cli("judge", "panel", "calibrate", *args, "--final")
    assert again.code == 5 and "member a (judge:" in again.out

    assert cli("judge", "panel", "run", *args, "--pairs", "all", "--override", "why").code == 0
    report = cli("report", "-s", "p", "--format", "json").json()
    (panel,) = [j for j in report["judges"] if j["provider"] == "panel"]
    assert panel["gate"]["status"] == "overridden" and panel["gate"]["override_reason"] == "why"
    decisive = [p for p in study if expected("a", p) != "tie"]
    assert panel["result"]["win_rate"]["tie"] == len(study)  # every pair a split or a tie
    assert decisive and all(expected("anti", p) != expected("a", p) for p in decisive)
