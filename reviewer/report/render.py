"""The report for people: Markdown, and HTML as one self-contained file (inline CSS and SVG
charts, no script, no network) that opens in any browser and prints. Model outputs are untrusted
text: the HTML comes from a Jinja2 template with autoescaping on, so markup inside an output shows
as text. Both formats read the same tables, so they cannot show different numbers."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from reviewer.labeling.display import CSS as DISPLAY_CSS
from reviewer.labeling.display import render_output
from reviewer.report import human_tables as human
from reviewer.report.checks_render import checklist_summary, checklist_table, mechanical_tables
from reviewer.report.judge_render import (
    gate_text,
    gate_warnings,
    judge_ci,
    judge_measure_rows,
    panel_rows,
)
from reviewer.report.model import (
    Appendix,
    Interval,
    JudgeOut,
    Report,
    WinRateOut,
)
from reviewer.report.rubric_version import rubric_rows

COLORS = {"SIGN-OFF": "#1a7f37", "BLOCKED": "#cf222e", "NOT ENOUGH EVIDENCE": "#9a6700"}


class Table(NamedTuple):
    """One titled table, already formatted as text, for both the Markdown and the HTML."""

    title: str
    head: list[str]
    rows: list[list[str]]


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def ci(i: Interval) -> str:
    return f"{num(i.value)} ({num(i.low)}-{num(i.high)}, n={i.n})"


def _sections(r: Report) -> list[Table]:
    """Tables shared by both formats, in the order the report shows them."""
    head = human.rate_head(r)
    tables = [
        Table("Win rate under each tie rule (humans)", human.TIE_RULE_HEAD, human.tie_rule_rows(r)),
        Table("Win rate by stratum (humans)", head, human.rate_rows(r.humans.by_stratum, r)),
        Table("Win rate by criterion (humans)", head, human.rate_rows(r.humans.by_criterion, r)),
        Table("Label quality (humans)", ["", ""], human.quality_rows(r)),
    ]
    if r.quality.flagged:
        head = ["pair", "stratum", "annotator", "humans", "flag reason"]
        tables.append(Table("Flagged pairs", head, human.flagged_rows(r)))
    tables += [Table(*t) for t in mechanical_tables(r)]
    return tables + [
        _agreement_table(r),
        Table(
            "Annotator pairs (Cohen's kappa)",
            ["annotator", "annotator", "shared", "agreement", "kappa"],
            [
                [p.rater_a, p.rater_b, str(p.shared), pct(p.agreement), num(p.kappa)]
                for p in r.agreement.pairwise
            ],
        ),
        _annotators_table(r),
        *(_judge_table(j) for j in r.judges),
        _appendix_table(r.appendix),
    ]


def _agreement_table(r: Report) -> Table:
    a = r.agreement
    return Table(
        "Human agreement",
        ["statistic", "value (95% CI)"],
        [
            ["MT-Bench agreement, with ties", ci(a.mtbench_with_ties["agreement"])],
            ["MT-Bench kappa, with ties", ci(a.mtbench_with_ties["kappa"])],
            ["MT-Bench agreement, without ties", ci(a.mtbench_without_ties["agreement"])],
            ["Fleiss' kappa", num(a.fleiss_kappa)],
            ["Krippendorff's alpha (nominal)", num(a.krippendorff_alpha)],
            ["Gwet's AC1", ci(a.gwet_ac1)],
        ],
    )


def _annotators_table(r: Report) -> Table:
    return Table(
        "Annotators",
        ["annotator", "role", "labels", "median s / label", "left picks", "agreement with others"],
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
    )


def _judge_table(j: JudgeOut) -> Table:
    w = j.result.win_rate
    labeled = (j.vs_majority["items"] or 0) + (j.vs_majority["split_skipped"] or 0)
    rows = [
        *panel_rows(j),
        ["win rate", f"{pct(w.rate)} ({pct(w.low)}-{pct(w.high)})"],
        [
            "agreement with human labels (with ties)",
            judge_ci(j.vs_humans_with_ties["agreement"], labeled),
        ],
        ["kappa with human labels (with ties)", judge_ci(j.vs_humans_with_ties["kappa"], labeled)],
        ["agreement with human majority", pct(j.vs_majority["agreement"])],
        ["items skipped (humans split)", str(j.vs_majority["split_skipped"])],
        ["items judged in one order only (left out of every figure)", str(j.one_order_only)],
        ["verdicts that flip with the order", pct(j.flip_rate)],
        ["decisive verdicts for the first position", pct(j.first_position_rate)],
        *judge_measure_rows(j, labeled),
        ["calibration gate", gate_text(j.gate)],
        *rubric_rows(j),
    ]
    if b := j.bias_corrected:
        rows.append(
            [
                "bias-corrected human-preference rate (all pairs)",
                f"{pct(b.value)} ({pct(b.low)}-{pct(b.high)}); humans alone "
                f"{pct(b.human_only_low)}-{pct(b.human_only_high)}; "
                f"{b.labeled} labeled + {b.unlabeled} judge-only pairs; {b.method}",
            ]
        )
    rows += [[f"win rate: {name}", winrate_text(c)] for name, c in j.result.by_criterion.items()]
    return Table(f"Judge {j.name}", ["measure", "value"], rows)


def _appendix_table(a: Appendix) -> Table:
    def when(t: datetime) -> str:
        return f"{t:%Y-%m-%d %H:%M}"

    frozen = f"{when(a.created_at)} / {when(a.frozen_at)}" if a.frozen_at else "not frozen"
    unblinded = (
        f"{when(a.unblinded_at)} by {a.unblinded_by}"
        if a.unblinded_at
        else "no (model names withheld)"
    )
    models = (
        f"{a.candidate_model} / {a.baseline_model}"
        if a.unblinded_at
        else "withheld until unblinding"
    )
    judges = ", ".join(f"{k} ({v[:12]})" for k, v in a.judges.items())
    return Table(
        "Appendix: what was measured",
        ["", ""],
        [
            ["study", a.study],
            ["config hash", a.config_hash],
            ["pairs hash", a.pairs_hash],
            ["seed / bootstrap resamples", f"{a.seed} / {a.bootstrap_resamples}"],
            ["created / frozen", frozen],
            ["unblinded", unblinded],
            ["candidate / baseline model", models],
            ["annotators", ", ".join(a.annotators) or "none"],
            ["judges", judges or "none"],
            [
                "signoff version / generated",
                f"{a.software_version} / {when(a.generated_at)} UTC",
            ],
        ],
    )


def winrate_text(w: WinRateOut) -> str:
    return f"{pct(w.rate)} ({pct(w.low)}-{pct(w.high)}) of {w.decisive} decisive"


def md_text(text: str) -> str:
    """Text for a Markdown page that stays text in any renderer, HTML enabled or not: no tag,
    link, image or code span can start in it.

    >>> md_text('<img src=x onerror=alert(1)> ![t](http://x/y.png) `a|b` & c')
    '&lt;img src=x onerror=alert(1)&gt; !\\\\[t\\\\](http://x/y.png) \\\\`a\\\\|b\\\\` &amp; c'
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`[]|":
        text = text.replace(char, "\\" + char)
    return text


def md_block(text: str) -> str:
    """An output as written, in a fenced block longer than any backtick run inside it: shown
    verbatim and inert by every Markdown renderer."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def to_markdown(r: Report) -> str:
    """The report as Markdown, from the same tables as the HTML. Every value is escaped
    (`md_text`) and model outputs are fenced (`md_block`), so nothing in them renders."""
    title, head, rows = checklist_table(r)
    out = [
        f"# Sign-off report: {md_text(r.title or r.study)}",
        "",
        f"## {title}",
        "",
        f"**{md_text(checklist_summary(r))}**",
        "",
        "| " + " | ".join(map(md_text, head)) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(map(md_text, row)) + " |" for row in rows),
        "",
        f"**{r.verdict.decision}**: {md_text(r.verdict.reason)} (decided by "
        f"{md_text(r.verdict.source)})",
        "",
        f"**Guarantee:** {md_text(r.verdict.guarantee_text)}",
        "",
        f"**Enough evidence?** {md_text(r.verdict.evidence_text)}",
        "",
        md_text(human.headline(r)),
        "",
    ]
    out += [f"> **WARNING:** {md_text(w)}\n" for w in gate_warnings(r)]
    if r.agreement.note:
        out += [f"> {md_text(r.agreement.note)}", ""]
    for title, head, rows in _sections(r):
        out += [f"## {md_text(title)}", "", "| " + " | ".join(map(md_text, head)) + " |"]
        out.append("|" + "---|" * len(head))
        out += ["| " + " | ".join(map(md_text, row)) + " |" for row in rows]
        out.append("")
    for kind, examples in r.examples.items():
        if examples:
            out += [f"## Examples: {kind.replace('_', ' ')}", ""]
            for e in examples:
                out += [
                    f"### {md_text(e.pair_id)} ({md_text(e.stratum)}, humans: "
                    f"{md_text(e.human_outcome)})",
                    "",
                    *(f"**{name}**\n\n{md_block(text)}\n" for name, text in (
                        ("Prompt", e.prompt), ("Candidate", e.candidate), ("Baseline", e.baseline)
                    )),
                ]  # fmt: skip
    return "\n".join(out)


@dataclass(frozen=True)
class Bar:
    """One row of a win-rate chart in SVG coordinates. A row with nothing decisive is not drawn:
    it shows its name only."""

    name: str
    y: int
    fill: str
    rate: str
    drawn: bool = False
    width: float = 0.0
    low_x: float = 0.0
    high_x: float = 0.0


@dataclass(frozen=True)
class Chart:
    """Horizontal win-rate bars with their Wilson intervals and the threshold, as numbers and
    plain text: the template draws the SVG, so every string in it is autoescaped."""

    width: int
    height: int
    left: int
    threshold_x: float
    threshold: str
    bars: list[Bar]


def _decisive(w: WinRateOut) -> tuple[float | None, float | None, float | None]:
    return w.rate, w.low, w.high


def _chart(
    rows: list[tuple[str, WinRateOut]],
    threshold: float,
    pick: Callable[[WinRateOut], tuple[float | None, ...]] = _decisive,
) -> Chart:
    """`pick` chooses the rate and interval drawn (decisive by default; the humans' charts
    draw the deciding tie rule's)."""
    width, left, row_h = 560, 110, 26

    def x(v: float) -> float:
        return left + (width - left - 20) * v

    def bar(i: int, name: str, w: WinRateOut) -> Bar:
        y, fill = 10 + i * row_h, "#0969da" if name == "overall" else "#57606a"
        rate, low, high = pick(w)
        if rate is None or low is None or high is None:
            return Bar(name, y, fill, pct(rate))
        return Bar(name, y, fill, pct(rate), True, x(rate) - x(0), x(low), x(high))

    bars = [bar(i, name, w) for i, (name, w) in enumerate(rows)]
    return Chart(width, row_h * len(rows) + 30, left, x(threshold), pct(threshold), bars)


def _charts(r: Report) -> list[tuple[str, Chart]]:
    """The win-rate charts with their headings: humans overall and by stratum, humans by
    criterion, then each judge overall and by stratum."""
    threshold = r.humans.win_rate.threshold
    rule = f"{human.RULE_TEXT[r.verdict.tie_rule]}, {human.interval_name(r)} 95% CI"

    def pick(w: WinRateOut) -> tuple[float | None, ...]:
        return human.deciding(w, r)

    strata = [("overall", r.humans.win_rate), *r.humans.by_stratum.items()]
    charts = [
        (f"Win rate (humans; {rule})", _chart(strata, threshold, pick)),
        (
            f"Win rate by criterion (humans; {rule})",
            _chart(list(r.humans.by_criterion.items()), threshold, pick),
        ),
    ]
    for j in r.judges:
        rows = [("overall", j.result.win_rate), *j.result.by_stratum.items()]
        charts.append((f"Win rate (judge {j.name})", _chart(rows, j.result.win_rate.threshold)))
    return charts


@cache
def _template() -> Template:
    """Built once, on first use. autoescape=True for every name: this environment renders HTML
    only, and StrictUndefined turns a misspelled field into an error rather than a blank."""
    env = Environment(
        loader=PackageLoader("reviewer.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["output"] = _output_html
    return env.get_template("report.html.j2")


def _output_html(text: str, mode: str) -> Markup:
    """An output as the annotators saw it: HTML made by the display renderer, which escapes
    every character and writes only allow-listed tags with class attributes (no src or href)."""
    shown = render_output(text, mode)  # type: ignore[arg-type]
    note = f'<div class="so-note">{html.escape(shown.note)}</div>' if shown.note else ""
    return Markup(note + shown.html)


def to_html(r: Report) -> str:
    """The report as one HTML file; the template escapes every value, model outputs included."""
    return _template().render(
        report=r,
        verdict_color=COLORS[r.verdict.decision],
        headline=human.headline(r),
        warnings=gate_warnings(r),
        charts=_charts(r),
        checklist=Table(*checklist_table(r)),
        checklist_summary=checklist_summary(r),
        checklist_color=COLORS["SIGN-OFF" if r.checklist.passed else "BLOCKED"],
        tables=_sections(r),
        display_css=Markup(DISPLAY_CSS.removeprefix("<style>").removesuffix("</style>")),
    )
