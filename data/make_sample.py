"""Write the sample study: Ledgerly's support assistant v3 (a fine-tune) against its base model.

Ledgerly is a fictional invoicing and bookkeeping service for small businesses. Its policies, on
which "correct" depends, are in POLICY below. Each scenario gives phrasings of a customer message
and the two models' replies; the fine-tune is usually better (shorter, formatted, right about
policy, declines what it must) but not always: it over-refuses some harmless requests, states a
wrong proration rule with confidence, and is curt with an upset customer. That mix is what a
real fine-tune looks like, and what the study must catch.

Run `python data/make_sample.py` to regenerate support_pairs.jsonl and sample_labels.csv; output
is deterministic. `truth` (who an expert should prefer) and `clarity` drive the simulated labels
and are kept out of the pairs file, so nothing leaks to annotators.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import yaml

HERE = Path(__file__).parent
CANDIDATE_MODEL = "ledgerly-support-v3 (Llama-3.1-8B fine-tune)"
BASELINE_MODEL = "Llama-3.1-8B-Instruct"

POLICY = """Plans: Starter $12/month (1 user), Growth $29/month (5 users, multi-currency),
Scale $79/month (unlimited users, API). Annual billing saves 2 months. Annual plans are
refundable within 30 days; monthly plans are not refunded but can be cancelled any time and
stay active until the period ends. Upgrades are prorated immediately; downgrades take effect at
the next renewal. Export: Settings > Data > Export (CSV or QuickBooks IIF). Bank feeds sync every
4 hours; reconnect under Banking > Connections. Invoices: up to 3 automatic reminders (Settings >
Reminders). Deleted accounts can be restored for 30 days. 2FA: Settings > Security; a lost device
needs recovery codes or an identity check (2 business days). Support: chat 24/5, email."""

BUSINESSES = [
    "Harbor Bakery",
    "Oakline Studio",
    "Pixel & Pine",
    "Northgate Plumbing",
    "Blue Fern Yoga",
    "Castillo Landscaping",
    "Quill Editorial",
    "Riverside Dental",
    "Mosaic Events",
    "Ferro Bikes",
    "Lumen Tutoring",
    "Saltmarsh Cafe",
]

# Each scenario: stratum, truth, clarity, differs, prompts (phrasings), candidate, baseline.
SCENARIOS: list[dict] = yaml.safe_load((HERE / "scenarios.yaml").read_text(encoding="utf-8"))

CURRENCIES = ["EUR", "GBP", "CAD", "AUD"]


def _plan_advice(n: int) -> str:
    if n <= 5:
        return "Growth covers you; Scale only adds value if you need the API."
    return "you're above Growth's 5-user limit, so Scale is the plan that fits."


def build(seed: int = 7) -> list[dict]:
    """Expand the scenarios into pairs until every stratum has its share."""
    rng = random.Random(seed)
    rows: list[dict] = []
    targets = {"routine": 56, "hard": 32, "edge": 24, "refusal": 16}
    counts = dict.fromkeys(targets, 0)
    round_ = 0
    while any(counts[s] < targets[s] for s in targets):
        for idx, scenario in enumerate(SCENARIOS):
            stratum, prompts = scenario["stratum"], scenario["prompts"]
            if counts[stratum] >= targets[stratum]:
                continue
            prompt = _decorate(prompts[round_ % len(prompts)], round_ // len(prompts))
            n = rng.choice([2, 3, 4, 6, 8, 12])
            slots = {
                "biz": rng.choice(BUSINESSES),
                "n": n,
                "amount": f"${rng.randint(12, 940)}.{rng.randint(0, 99):02d}",
                "currency": rng.choice(CURRENCIES),
                "plan_advice": _plan_advice(n),
            }
            fill = _filler(slots)
            counts[stratum] += 1
            metadata = {"scenario": idx, "channel": rng.choice(["chat", "email"])}
            if stratum == "refusal":  # the expected behaviour the `declines` check scores
                metadata["expected"] = {"should_decline": scenario["differs"] == "refusal"}
            rows.append(
                {
                    "id": f"ldg-{stratum[:3]}-{counts[stratum]:03d}",
                    "prompt": fill(prompt),
                    "candidate": fill(scenario["candidate"]),
                    "baseline": fill(scenario["baseline"]),
                    "candidate_model": CANDIDATE_MODEL,
                    "baseline_model": BASELINE_MODEL,
                    "stratum": stratum,
                    **(
                        {"reference": fill(scenario["reference"])}
                        if "reference" in scenario
                        else {}
                    ),
                    "metadata": metadata,
                    "_truth": scenario["truth"],
                    "_clarity": scenario["clarity"],
                }
            )
        round_ += 1
    rng.shuffle(rows)
    _record_calls(rows)
    return rows


# Both models served on the same GPU at $0.60 per million tokens; latency grows with the tokens
# written. The figures `signoff generate` records per call, made up here with a random stream of
# their own (so the outputs and the simulated labels stay as they were).
PRICE_PER_TOKEN = 0.60 / 1_000_000
SERVER = {"candidate": (230.0, 11.0), "baseline": (250.0, 12.0)}  # ms at start, ms per token


def _record_calls(rows: list[dict], seed: int = 13) -> None:
    rng = random.Random(seed)
    for row in rows:
        prompt_tokens = len(json.dumps(row["prompt"])) / 4
        for side, (start, per_token) in SERVER.items():
            tokens = len(row[side]) / 4
            latency = (start + per_token * tokens) * rng.lognormvariate(0, 0.25)
            row["metadata"][f"{side}_latency_ms"] = round(latency, 1)
            row["metadata"][f"{side}_cost_usd"] = round(
                (prompt_tokens + tokens) * PRICE_PER_TOKEN, 8
            )


# Later rounds reuse a phrasing with the context real customers add, so no prompt repeats.
DECORATIONS = [
    "{p}",
    "Hi, this is {{biz}}. {p}",
    "{p} Thanks in advance!",
    "Quick question: {p}",
    "{p} (we're on the Growth plan)",
]


def _decorate(prompt, round_: int):
    if isinstance(prompt, list):
        last = prompt[-1]
        return [*prompt[:-1], {**last, "content": _decorate(last["content"], round_)}]
    return DECORATIONS[round_ % len(DECORATIONS)].format(p=prompt)


def _filler(slots: dict):
    def fill(value):
        if isinstance(value, list):
            return [{**m, "content": m["content"].format(**slots)} for m in value]
        return value.format(**slots)

    return fill


# Simulated experts: how often each agrees with the truth, and how they lean when unsure.
ANNOTATORS = {
    "Maya Chen (sample)": {"skill": 0.85, "tie_rate": 0.20},
    "Jonas Berg (sample)": {"skill": 0.72, "tie_rate": 0.08},
}
CRITERIA = ["correctness", "helpfulness", "safety", "format"]


def simulate_labels(rows: list[dict], calibration: set[str], seed: int = 11) -> list[dict]:
    """Labels by two imperfect experts on the calibration set."""
    rng = random.Random(seed)
    out = []
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["id"] not in calibration:
            continue
        for name, who in ANNOTATORS.items():
            pref = _draw(rng, row["_truth"], row["_clarity"] * who["skill"] + 0.1, who["tie_rate"])
            label = {"pair_id": row["id"], "annotator": name, "preference": pref}
            for crit in CRITERIA:
                # Criteria mostly follow the overall call; safety is "same" unless refusal.
                if crit == "safety" and row["stratum"] != "refusal":
                    label[crit] = "same" if rng.random() < 0.9 else pref.replace("tie", "same")
                else:
                    p = _draw(rng, row["_truth"], 0.8 * who["skill"], who["tie_rate"] + 0.1)
                    label[crit] = p.replace("tie", "same")
            label["rationale"] = "" if rng.random() < 0.6 else _rationale(pref)
            out.append(label)
    return out


def _draw(rng: random.Random, truth: str, accuracy: float, tie_rate: float) -> str:
    if rng.random() < tie_rate or (truth == "tie" and rng.random() < 0.5):
        return "tie"
    if truth == "tie":
        return rng.choice(["candidate", "baseline"])
    other = "baseline" if truth == "candidate" else "candidate"
    return truth if rng.random() < min(accuracy, 0.97) else other


def _rationale(pref: str) -> str:
    return {
        "candidate": "Gets the policy right and is easier to follow.",
        "baseline": "The other one misses what the customer actually asked.",
        "tie": "Both fine / both equally off.",
    }[pref]


def main() -> None:
    import sys

    sys.path.insert(0, str(HERE.parent))
    from reviewer.config import load_config
    from reviewer.study.sampling import calibration_sample

    rows = build()
    with open(HERE / "support_pairs.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            public = {k: v for k, v in row.items() if not k.startswith("_")}
            f.write(json.dumps(public, ensure_ascii=False) + "\n")
    cfg = load_config(HERE / "support_study.toml")
    calibration = calibration_sample(
        [(r["id"], r["stratum"]) for r in rows], cfg.calibration.size, cfg.seed
    )
    labels = simulate_labels(rows, calibration)
    with open(HERE / "sample_labels.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(labels[0]))
        writer.writeheader()
        writer.writerows(labels)
    print(f"{len(rows)} pairs, {len(labels)} sample labels on {len(calibration)} pairs")


if __name__ == "__main__":
    main()
