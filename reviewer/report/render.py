"""The report for people: Markdown, and HTML as one self-contained file (inline CSS and SVG
charts, no script, no network) that opens in any browser and prints. Model outputs are untrusted
text: every value goes through html.escape, so markup inside an output shows as text."""

from __future__ import annotations

from html import escape

from reviewer.report.model import Interval, JudgeGate, Report, WinRateOut

COLORS = {"SIGN-OFF": "#1a7f37", "BLOCKED": "#cf222e", "NOT ENOUGH EVIDENCE": "#9a6700"}


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def ci(i: Interval) -> str:
    return f"{num(i.value)} ({num(i.low)}-{num(i.high)}, n={i.n})"


def _rate_rows(rows: dict[str, WinRateOut]) -> list[list[str]]:
    return [
        [
            name,
            pct(w.rate),
            f"{pct(w.low)}-{pct(w.high)}",
            str(w.candidate),
            str(w.baseline),
            str(w.tie),
            num(w.p_value, 3),
        ]
        for name, w in rows.items()
    ]


RATE_HEAD = ["", "win rate", "95% CI", "candidate", "baseline", "tie", "p (vs threshold)"]


def _sections(r: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """Tables shared by both formats: (title, header, rows)."""
    h = r.humans
    tables = [
        ("Win rate by stratum (humans)", RATE_HEAD, _rate_rows(h.by_stratum)),
        ("Win rate by criterion (humans)", RATE_HEAD, _rate_rows(h.by_criterion)),
        (
            "Human agreement",
            ["statistic", "value (95% CI)"],
            [
                ["MT-Bench agreement, with ties", ci(r.agreement.mtbench_with_ties["agreement"])],
                ["MT-Bench kappa, with ties", ci(r.agreement.mtbench_with_ties["kappa"])],
                [
                    "MT-Bench agreement, without ties",
                    ci(r.agreement.mtbench_without_ties["agreement"]),
                ],
                ["Fleiss' kappa", num(r.agreement.fleiss_kappa)],
                ["Krippendorff's alpha (nominal)", num(r.agreement.krippendorff_alpha)],
                ["Gwet's AC1", ci(r.agreement.gwet_ac1)],
            ],
        ),
        (
            "Annotator pairs (Cohen's kappa)",
            ["annotator", "annotator", "shared", "agreement", "kappa"],
            [
                [p.rater_a, p.rater_b, str(p.shared), pct(p.agreement), num(p.kappa)]
                for p in r.agreement.pairwise
            ],
        ),
        (
            "Annotators",
            [
                "annotator",
                "role",
                "labels",
                "median s / label",
                "left picks",
                "agreement with others",
            ],
            [
                [
                    a.name,
                    a.role,
                    str(a.labels),
                    num(a.median_seconds, 1),
                    pct(a.left_pick_rate),
                    pct(a.agreement_with_others),
                ]
                for a in r.annotators
            ],
        ),
    ]
    for j in r.judges:
        tables.append(
            (
                f"Judge {j.name}",
                ["measure", "value"],
                [
                    [
                        "win rate",
                        f"{pct(j.result.win_rate.rate)} ({pct(j.result.win_rate.low)}-"
                        f"{pct(j.result.win_rate.high)})",
                    ],
                    [
                        "agreement with human labels (with ties)",
                        ci(j.vs_humans_with_ties["agreement"]),
                    ],
                    ["kappa with human labels (with ties)", ci(j.vs_humans_with_ties["kappa"])],
                    ["agreement with human majority", pct(j.vs_majority["agreement"])],
                    ["items skipped (humans split)", str(j.vs_majority["split_skipped"])],
                    ["verdicts that flip with the order", pct(j.flip_rate)],
                    ["decisive verdicts for the first position", pct(j.first_position_rate)],
                    ["calibration gate", gate_text(j.gate)],
                    *(
                        [
                            [
                                "bias-corrected human-preference rate (all pairs)",
                                f"{pct(j.bias_corrected.value)} ({pct(j.bias_corrected.low)}-"
                                f"{pct(j.bias_corrected.high)}); humans alone "
                                f"{pct(j.bias_corrected.human_only_low)}-"
                                f"{pct(j.bias_corrected.human_only_high)}; "
                                f"{j.bias_corrected.labeled} labeled + "
                                f"{j.bias_corrected.unlabeled} judge-only pairs; "
                                f"{j.bias_corrected.method}",
                            ]
                        ]
                        if j.bias_corrected
                        else []
                    ),
                    *(
                        [f"win rate: {name}", winrate_text(w)]
                        for name, w in j.result.by_criterion.items()
                    ),
                ],
            )
        )
    a = r.appendix
    tables.append(
        (
            "Appendix: what was measured",
            ["", ""],
            [
                ["study", a.study],
                ["config hash", a.config_hash],
                ["pairs hash", a.pairs_hash],
                ["seed / bootstrap resamples", f"{a.seed} / {a.bootstrap_resamples}"],
                [
                    "created / frozen",
                    f"{a.created_at:%Y-%m-%d %H:%M} / {a.frozen_at:%Y-%m-%d %H:%M}"
                    if a.frozen_at
                    else "not frozen",
                ],
                [
                    "unblinded",
                    f"{a.unblinded_at:%Y-%m-%d %H:%M} by {a.unblinded_by}"
                    if a.unblinded_at
                    else "no (model names withheld)",
                ],
                [
                    "candidate / baseline model",
                    f"{a.candidate_model} / {a.baseline_model}"
                    if a.unblinded_at
                    else "withheld until unblinding",
                ],
                ["annotators", ", ".join(a.annotators) or "none"],
                ["judges", ", ".join(f"{k} ({v[:12]})" for k, v in a.judges.items()) or "none"],
                [
                    "signoff version / generated",
                    f"{a.software_version} / {a.generated_at:%Y-%m-%d %H:%M} UTC",
                ],
            ],
        )
    )
    return tables


def _headline(r: Report) -> str:
    w = r.humans.win_rate
    worst = r.humans.worst_stratum
    worst_text = (
        f"; weakest stratum: {worst} at {pct(r.humans.by_stratum[worst].rate)}" if worst else ""
    )
    return (
        f"Candidate preferred on {pct(w.rate)} of {w.decisive} decisive pairs "
        f"(95% CI {pct(w.low)}-{pct(w.high)}; {w.tie} ties of {w.items} items; threshold "
        f"{pct(w.threshold)}){worst_text}. Each item counts once: its human labels are "
        "reduced to one outcome by majority, and an item without a majority is a tie."
    )


def gate_text(g: JudgeGate) -> str:
    text = {
        "passed": f"passed on the {g.part} calibration pairs",
        "failed": f"FAILED on the {g.part} calibration pairs",
        "not calibrated": "not calibrated",
        "overridden": f"OVERRIDDEN by {g.override_by}: {g.override_reason}",
        "external": "verdicts imported from another tool; not calibrated here",
    }[g.status]
    if g.failures:
        text += " (" + "; ".join(g.failures) + ")"
    if g.human_only_criteria:
        text += "; human-only criteria: " + ", ".join(g.human_only_criteria)
    return text


def winrate_text(w: WinRateOut) -> str:
    return f"{pct(w.rate)} ({pct(w.low)}-{pct(w.high)}) of {w.decisive} decisive"


def gate_warnings(r: Report) -> list[str]:
    """Judges whose results stand without a passing gate: the report says so in red."""
    return [
        f"Judge {j.name}: calibration gate {gate_text(j.gate)}. Its results below are not "
        "validated against the experts."
        for j in r.judges
        if j.gate.status in ("overridden", "failed", "not calibrated")
    ]


def to_markdown(r: Report) -> str:
    out = [
        f"# Sign-off report: {r.title or r.study}",
        "",
        f"**{r.verdict.decision}**: {r.verdict.reason} (decided by {r.verdict.source})",
        "",
        _headline(r),
        "",
    ]
    out += [f"> **WARNING:** {w}\n" for w in gate_warnings(r)]
    if r.agreement.note:
        out += [f"> {r.agreement.note}", ""]
    for title, head, rows in _sections(r):
        out += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        out.append("")
    for kind, examples in r.examples.items():
        if examples:
            out += [f"## Examples: {kind.replace('_', ' ')}", ""]
            for e in examples:
                out += [
                    f"### {e.pair_id} ({e.stratum}, humans: {e.human_outcome})",
                    "",
                    "**Prompt**",
                    "",
                    _quote(e.prompt),
                    "",
                    "**Candidate**",
                    "",
                    _quote(e.candidate),
                    "",
                    "**Baseline**",
                    "",
                    _quote(e.baseline),
                    "",
                ]
    return "\n".join(out)


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines())


def _bars(rows: list[tuple[str, WinRateOut]], threshold: float) -> str:
    """Horizontal bars of win rates with their Wilson intervals and the threshold."""
    width, left, row_h = 560, 110, 26
    height = row_h * len(rows) + 30
    x = lambda v: left + (width - left - 20) * v  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="win rate by stratum">'
    ]
    for i, (name, w) in enumerate(rows):
        y = 10 + i * row_h
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" '
            f'font-size="12">{escape(name)}</text>'
        )
        if w.rate is not None:
            parts.append(
                f'<rect x="{x(0)}" y="{y + 3}" width="{x(w.rate) - x(0):.1f}" '
                f'height="14" fill="{"#0969da" if name == "overall" else "#57606a"}"/>'
            )
            parts.append(
                f'<line x1="{x(w.low):.1f}" x2="{x(w.high):.1f}" y1="{y + 10}" '
                f'y2="{y + 10}" stroke="#000" stroke-width="1.5"/>'
            )
            parts.append(
                f'<text x="{x(w.high) + 4:.1f}" y="{y + 14}" font-size="11">{pct(w.rate)}</text>'
            )
    tx = x(threshold)
    parts.append(
        f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="4" y2="{height - 18}" stroke="#cf222e" '
        f'stroke-dasharray="4 3"/><text x="{tx:.1f}" y="{height - 4}" font-size="11" '
        f'text-anchor="middle" fill="#cf222e">threshold {pct(threshold)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font:14px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1f2328}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}.verdict{font-size:1.4em;font-weight:700;
padding:.6em 1em;border-radius:6px;color:#fff}.note{border-left:4px solid #9a6700;padding:.4em 1em;
background:#fff8c5}pre{white-space:pre-wrap;background:#f6f8fa;padding:.6em;border-radius:4px;
max-height:24em;overflow:auto}.ex{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.stamp{border:3px solid #cf222e;color:#cf222e;font-weight:700;padding:.5em 1em;border-radius:6px}
@media print{pre{max-height:none}}
"""


def to_html(r: Report) -> str:
    e = escape
    body = [
        f"<h1>Sign-off report: {e(r.title or r.study)}</h1>",
        f'<div class="verdict" style="background:{COLORS[r.verdict.decision]}">'
        f"{e(r.verdict.decision)}</div>",
        f"<p><b>Why:</b> {e(r.verdict.reason)} (decided by {e(r.verdict.source)})</p>",
        f"<p>{e(_headline(r))}</p>",
        *(f'<p class="stamp">{e(w)}</p>' for w in gate_warnings(r)),
        "<h2>Win rate (humans)</h2>",
        _bars(
            [("overall", r.humans.win_rate), *r.humans.by_stratum.items()],
            r.humans.win_rate.threshold,
        ),
        "<h2>Win rate by criterion (humans)</h2>",
        _bars(list(r.humans.by_criterion.items()), r.humans.win_rate.threshold),
    ]
    for j in r.judges:
        body += [
            f"<h2>Win rate (judge {e(j.name)})</h2>",
            _bars(
                [("overall", j.result.win_rate), *j.result.by_stratum.items()],
                j.result.win_rate.threshold,
            ),
        ]
    if r.agreement.note:
        body.append(f'<p class="note">{e(r.agreement.note)}</p>')
    for title, head, rows in _sections(r):
        body.append(
            f"<h2>{e(title)}</h2><table><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in head)
            + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
            + "</table>"
        )
    for kind, examples in r.examples.items():
        if examples:
            body.append(f"<h2>Examples: {e(kind.replace('_', ' '))}</h2>")
        for x in examples:
            labels = ", ".join(f"{e(k)}: {e(v)}" for k, v in x.labels.items())
            body.append(
                f"<h3>{e(x.pair_id)} ({e(x.stratum)}; humans: {e(x.human_outcome)}; "
                f'{labels})</h3><pre>{e(x.prompt)}</pre><div class="ex"><div><b>'
                f"Candidate</b><pre>{e(x.candidate)}</pre></div><div><b>Baseline</b>"
                f"<pre>{e(x.baseline)}</pre></div></div>"
            )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-off: '
        f"{e(r.study)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>"
    )
