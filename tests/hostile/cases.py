"""The hostile-file corpus: bad and hostile files for every import path, written at test time.

Each `Case` writes its files into a folder (binary and large ones are generated, so the
repository stays small) and says which path reads it and what the refusal must name: the file,
the row where there is one, and the field, as `file:row: field:` fragments. A few cases are
files that look hostile but must be accepted (a BOM, an empty output, dates in Parquet).

Paths: pairs (JSONL/CSV/Parquet via `signoff import` and the admin upload), join (two output
files), config (`--config`, and the admin upload), rubric and prices (`judge run --dry-run`),
labels (`labels import`), verdicts (`judge import`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Make = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    file: str
    make: Make
    expect: tuple[str, ...] = ()
    accepted: bool = False
    args: tuple[str, ...] = ()
    uploadable: bool = field(default=True)


def row(i: int, **over) -> dict:
    out = {"id": f"p{i:03d}", "prompt": f"Q{i}?", "candidate": f"C{i}.", "baseline": f"B{i}."}
    out.update(over)
    return out


def jsonl(*rows: dict | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


GOOD_PAIRS = jsonl(*(row(i) for i in range(1, 41)))
GOOD_RUBRIC = b'question = "Which is better?"\n'
DEEP = "[" * 100_000 + "]" * 100_000
BIG_INT = "9" * 5000


def files(**named: bytes | str) -> Make:
    """Write each `name=content` (names with `__` for `.`: `bad__jsonl` -> `bad.jsonl`)."""

    def make(folder: Path) -> None:
        for name, content in named.items():
            data = content.encode() if isinstance(content, str) else content
            (folder / name.replace("__", ".")).write_bytes(data)

    return make


def both(*makers: Make) -> Make:
    def make(folder: Path) -> None:
        for m in makers:
            m(folder)

    return make


def folder(name: str) -> Make:
    return lambda d: (d / name).mkdir()


def loop(name: str) -> Make:
    return lambda d: os.symlink(name, d / name)


def fifo(name: str) -> Make:
    return lambda d: os.mkfifo(d / name)


def parquet(name: str, columns: dict, **kw) -> Make:
    def make(d: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table(columns), d / name, **kw)

    return make


def parquet_bomb(name: str, rows: int, chars: int) -> Make:
    """Tiny on disk (one dictionary value), `rows x chars` characters per column decoded."""

    def make(d: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), ["x" * chars])
        ids = pa.array([f"p{i}" for i in range(rows)])
        pq.write_table(
            pa.table({"id": ids, "prompt": ids, "candidate": text, "baseline": text}), d / name
        )

    return make


def truncated_parquet(name: str) -> Make:
    def make(d: Path) -> None:
        parquet(name, {"id": ["p1"], "prompt": ["q"], "candidate": ["a"], "baseline": ["b"]})(d)
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[: len(data) // 2])

    return make


SMALL_LIMIT = b"[limits]\nmax_output_chars = 1000\n"


def pairs_cases() -> list[Case]:
    c = Case
    return [
        c("jsonl-deep", "pairs", "deep.jsonl",
          files(deep__jsonl=jsonl(row(1), f'{{"id": "p2", "metadata": {DEEP}}}')),
          ("deep.jsonl:2: json: nested too deeply",)),
        c("jsonl-bigint", "pairs", "big.jsonl",
          files(big__jsonl=jsonl(row(1), f'{{"id": {BIG_INT}}}')),
          ("big.jsonl:2: json: not usable JSON (Exceeds the limit (4300 digits)",)),
        c("jsonl-bom", "pairs", "bom.jsonl", files(bom__jsonl=b"\xef\xbb\xbf" + jsonl(row(1))),
          accepted=True),
        c("jsonl-empty", "pairs", "empty.jsonl", files(empty__jsonl=b""),
          ("empty.jsonl: file: is empty",)),
        c("jsonl-blank-lines", "pairs", "blank.jsonl", files(blank__jsonl=b"\n  \n\t\n"),
          ("blank.jsonl: file: is empty",)),
        c("jsonl-latin1", "pairs", "latin.jsonl",
          files(latin__jsonl=jsonl(row(1)) + b'{"id": "caf\xe9"}\n'),
          ("latin.jsonl:2: encoding: not UTF-8 (byte 0xe9",)),
        c("jsonl-utf16", "pairs", "u16.jsonl",
          files(u16__jsonl=jsonl(row(1)).decode().encode("utf-16")),
          ("u16.jsonl:1: encoding: not UTF-8",)),
        c("jsonl-array-line", "pairs", "arr.jsonl", files(arr__jsonl=jsonl(row(1), "[1, 2]")),
          ("arr.jsonl:2: json: each line must be an object",)),
        c("jsonl-truncated", "pairs", "cut.jsonl", files(cut__jsonl=b'{"id": "p1", "prompt"\n'),
          ("cut.jsonl:1: json: not valid JSON",)),
        c("jsonl-nan-metadata", "pairs", "nan.jsonl",
          files(nan__jsonl=jsonl(row(1, metadata={"x": float("nan")}))),
          ("nan.jsonl:1: metadata: metadata holds NaN",)),
        c("jsonl-deep-metadata", "pairs", "meta.jsonl",
          files(meta__jsonl=jsonl(row(1), row(2, metadata=_nested(40)))),
          ("meta.jsonl:2: metadata: metadata is nested more than 32 levels",)),
        c("jsonl-null-output", "pairs", "null.jsonl",
          files(null__jsonl=jsonl(row(1, candidate=None))),
          ("null.jsonl:1: candidate: required, but missing or empty",)),
        c("jsonl-number-output", "pairs", "num.jsonl", files(num__jsonl=jsonl(row(1, baseline=5))),
          ("num.jsonl:1: baseline: Input should be a valid string",)),
        c("jsonl-bool-id", "pairs", "bool.jsonl", files(bool__jsonl=jsonl(row(1, id=True))),
          ("bool.jsonl:1: id: Input should be a valid string",)),
        c("jsonl-long-id", "pairs", "long.jsonl", files(long__jsonl=jsonl(row(1, id="x" * 300))),
          ("long.jsonl:1: id: String should have at most 200 characters",)),
        c("jsonl-duplicate-id", "pairs", "dup.jsonl", files(dup__jsonl=jsonl(row(1), row(1))),
          ("dup.jsonl:2: id: duplicate id 'p001' (first on line 1)",)),
        c("jsonl-output-over-limit", "pairs", "huge.jsonl",
          files(huge__jsonl=jsonl(row(1, candidate="y" * 100_001))),
          ("huge.jsonl:1: candidate: output is 100,001 characters, above the limit of 100,000",)),
        c("jsonl-unknown-column", "pairs", "extra.jsonl",
          files(extra__jsonl=jsonl(row(1, candiate="x"))),
          ("extra.jsonl:1: candiate: unknown column (did you mean 'candidate'?)",)),
        c("jsonl-empty-messages", "pairs", "msgs.jsonl",
          files(msgs__jsonl=jsonl(row(1, prompt=[]))),
          ("msgs.jsonl:1: prompt: prompt has no messages",)),
        c("jsonl-bad-role", "pairs", "role.jsonl",
          files(role__jsonl=jsonl(row(1, prompt=[{"role": "robot", "content": "x"}]))),
          ("role.jsonl:1: prompt.0.role: Input should be",)),
        c("jsonl-metadata-text", "pairs", "mtext.jsonl",
          files(mtext__jsonl=jsonl(row(1, metadata="x"))),
          ("mtext.jsonl:1: metadata: metadata must be a JSON object",)),
        c("jsonl-lone-surrogate", "pairs", "sur.jsonl",
          files(sur__jsonl=b'{"id": "p1", "prompt": "q", "candidate": "a\\ud800", '
                           b'"baseline": "b"}\n'),
          ("sur.jsonl:1: json: holds \\ud800, half of a UTF-16 surrogate pair",)),
        c("jsonl-raw-control-char", "pairs", "ctl.jsonl",
          files(ctl__jsonl=b'{"id": "p1", "prompt": "a\x01b", "candidate": "a", '
                           b'"baseline": "b"}\n'),
          ("ctl.jsonl:1: json: not valid JSON (Invalid control character",)),
        c("jsonl-empty-output", "pairs", "eo.jsonl",
          files(eo__jsonl=jsonl(row(1, candidate=""), row(2, baseline="  "))), accepted=True),
        c("pairs-wrong-extension", "pairs", "pairs.txt", files(pairs__txt=GOOD_PAIRS),
          ("pairs.txt: file: expected a .jsonl, .csv or .parquet file",), uploadable=False),
        c("pairs-folder", "pairs", "dir.jsonl", folder("dir.jsonl"),
          ("dir.jsonl: file: is a folder, not a file",), uploadable=False),
        c("pairs-symlink-loop", "pairs", "loop.jsonl", loop("loop.jsonl"),
          ("loop.jsonl: file: cannot be read (Too many levels of symbolic links)",),
          uploadable=False),
        c("pairs-fifo", "pairs", "pipe.jsonl", fifo("pipe.jsonl"),
          ("pipe.jsonl: file: is not a regular file",), uploadable=False),
        c("pairs-missing", "pairs", "nowhere.jsonl", lambda d: None,
          ("nowhere.jsonl: file: not found",), uploadable=False),
        *csv_cases(),
        *parquet_cases(),
    ]  # fmt: skip


def _nested(depth: int) -> dict:
    out: dict = {"leaf": 1}
    for _ in range(depth):
        out = {"k": out}
    return out


HEADER = "id,prompt,candidate,baseline\n"


def csv_cases() -> list[Case]:
    c = Case
    return [
        c("csv-duplicate-header", "pairs", "dup.csv",
          files(dup__csv="id,prompt,candidate,baseline,candidate\np1,q,a,b,c\n"),
          ("dup.csv:1: candidate: column 5 repeats column 3",)),
        c("csv-empty", "pairs", "empty.csv", files(empty__csv=b""),
          ("empty.csv:1: header: file is empty",)),
        c("csv-header-only", "pairs", "head.csv", files(head__csv=HEADER),
          ("head.csv: file: has no rows",)),
        c("csv-no-header", "pairs", "nohead.csv", files(nohead__csv="p1,q,a,b\np2,q,a,b\n"),
          ("nohead.csv:1: header: the first line does not look like a header",)),
        c("csv-ragged-row", "pairs", "rag.csv", files(rag__csv=HEADER + "p1,q,a\n"),
          ("rag.csv:2: row: has 3 cells but the header has 4 columns",)),
        c("csv-latin1", "pairs", "lat.csv", files(lat__csv=HEADER.encode() + b"p1,caf\xe9,a,b\n"),
          ("lat.csv:2: encoding: not UTF-8 (byte 0xe9",)),
        c("csv-unclosed-quote", "pairs", "quote.csv", files(quote__csv=HEADER + 'p1,q,"a,b\n'),
          ("quote.csv:2: row: has 3 cells",)),
        c("csv-field-over-131072", "pairs", "wide.csv",
          files(wide__csv=HEADER + "p1,q," + "z" * 200_000 + ",b\n"),
          ("wide.csv:2: candidate: output is 200,000 characters, above the limit of 100,000",)),
        c("csv-cell-over-field-limit", "pairs", "wider.csv",
          files(wider__csv=HEADER + "p1,q," + "z" * 500_000 + ",b\n"),
          ("wider.csv:2: csv: a cell is longer than 400,001 characters",)),
        c("csv-bad-metadata", "pairs", "meta.csv",
          files(meta__csv="id,prompt,candidate,baseline,metadata\np1,q,a,b,{bad\n"),
          ("meta.csv:2: metadata: metadata must be a JSON object",)),
        c("csv-bigint-metadata", "pairs", "bigmeta.csv",
          files(bigmeta__csv='id,prompt,candidate,baseline,metadata\np1,q,a,b,"{""x"": '
                + BIG_INT + '}"\n'),
          ("bigmeta.csv:2: metadata: metadata must be a JSON object",)),
        c("csv-deep-metadata", "pairs", "deepmeta.csv",
          files(deepmeta__csv="id,prompt,candidate,baseline,metadata\np1,q,a,b," + DEEP + "\n"),
          ("deepmeta.csv:2: metadata: metadata must be a JSON object",)),
        c("csv-bom-and-empty-output", "pairs", "bom.csv",
          files(bom__csv=b"\xef\xbb\xbf" + HEADER.encode() + b"p1,q,,b\n"), accepted=True),
    ]  # fmt: skip


PQ = {"id": ["p1"], "prompt": ["q"], "candidate": ["a"], "baseline": ["b"]}


def parquet_cases() -> list[Case]:
    import datetime as dt

    c = Case
    return [
        c("parquet-garbage", "pairs", "junk.parquet", files(junk__parquet=b"PAR1 not really"),
          ("junk.parquet: file: not a readable Parquet file",)),
        c("parquet-truncated", "pairs", "cut.parquet", truncated_parquet("cut.parquet"),
          ("cut.parquet: file: not a readable Parquet file",)),
        c("parquet-dates-in-metadata", "pairs", "dates.parquet",
          parquet("dates.parquet", {**PQ, "metadata": [{"day": dt.date(2024, 1, 2),
                                                        "at": dt.datetime(2024, 1, 2, 3, 4)}]}),
          accepted=True),
        c("parquet-missing-columns", "pairs", "cols.parquet",
          parquet("cols.parquet", {"id": ["p1"], "prompt": ["q"]}),
          ("cols.parquet:1: candidate: required column is missing",)),
        c("parquet-duplicate-columns", "pairs", "twice.parquet",
          lambda d: _duplicate_parquet(d / "twice.parquet"),
          ("twice.parquet: candidate: column 5 repeats column 3",)),
        c("parquet-bomb", "pairs", "bomb.parquet",
          both(parquet_bomb("bomb.parquet", 3000, 900), files(small__toml=SMALL_LIMIT)),
          ("bomb.parquet:", ": file: rows 1-", "decode to more than",
           "raise limits.max_output_chars"), args=("--config", "small.toml"), uploadable=False),
        c("parquet-fat-row", "pairs", "fat.parquet",
          both(parquet("fat.parquet", {**PQ, "metadata": [{"xs": list(range(20_000))}]}),
               files(small__toml=SMALL_LIMIT)),
          ("fat.parquet:1: row: this row decodes to more than",),
          args=("--config", "small.toml"), uploadable=False),
        c("parquet-number-id-bytes-output", "pairs", "types.parquet",
          parquet("types.parquet", {**PQ, "candidate": [[1, 2]]}),
          ("types.parquet:1: candidate: Input should be a valid string",)),
    ]  # fmt: skip


def _duplicate_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array(v) for v in (*PQ.values(), ["c"])]
    pq.write_table(pa.Table.from_arrays(arrays, names=[*PQ, "candidate"]), path)


def join_cases() -> list[Case]:
    c = Case
    out = [row(1), row(2)]
    cand = jsonl(*({"id": r["id"], "prompt": r["prompt"], "output": "c"} for r in out))
    base_rows = [{"id": r["id"], "prompt": r["prompt"], "output": "b"} for r in out]
    return [
        c("join-deep-baseline", "join", "b.jsonl",
          files(c__jsonl=cand, b__jsonl=jsonl(base_rows[0], f'{{"id": "p002", "x": {DEEP}}}')),
          ("b.jsonl:2: json: nested too deeply",)),
        c("join-missing-id", "join", "b.jsonl", files(c__jsonl=cand, b__jsonl=jsonl(base_rows[0])),
          ("c.jsonl:2: id: 'p002' is not in b.jsonl",)),
        c("join-duplicate-header", "join", "b.csv",
          files(c__jsonl=cand, b__csv="id,prompt,output,output\np001,Q1?,b,b\n"),
          ("b.csv:1: output: column 4 repeats column 3",)),
        c("join-empty-baseline", "join", "b.jsonl", files(c__jsonl=cand, b__jsonl=b""),
          ("b.jsonl: file: is empty",)),
        c("join-folder-baseline", "join", "b.jsonl",
          both(files(c__jsonl=cand), folder("b.jsonl")), ("b.jsonl: file: is a folder",)),
        c("join-different-prompt", "join", "b.jsonl",
          files(c__jsonl=cand, b__jsonl=jsonl(base_rows[0], {**base_rows[1], "prompt": "other"})),
          ("b.jsonl:2: prompt: differs from c.jsonl",)),
        c("join-empty-output-cell", "join", "b.csv",
          files(c__jsonl=cand, b__csv="id,prompt,output\np001,Q1?,\np002,Q2?,b\n"),
          accepted=True),
    ]  # fmt: skip


def declared_cases(path: str, suffix: str = "") -> list[Case]:
    """Files any declared file (config, rubric, price table) must refuse by name."""
    c = Case
    p = f"{path}-"
    return [
        c(p + "deep-toml", path, "deep.toml", files(deep__toml="x = " + DEEP + "\n"),
          ("deep.toml: syntax: nested too deeply",)),
        c(p + "deep-yaml", path, "deep.yaml", files(deep__yaml="x: " + DEEP + "\n"),
          ("deep.yaml: syntax: nested too deeply",)),
        c(p + "bigint-toml", path, "big.toml", files(big__toml="x = " + BIG_INT + "\n"),
          ("big.toml: syntax: Exceeds the limit (4300 digits)",)),
        c(p + "bigint-yaml", path, "big.yaml", files(big__yaml="x: " + BIG_INT + "\n"),
          ("big.yaml: syntax: Exceeds the limit (4300 digits)",)),
        c(p + "folder", path, "dir.toml", folder("dir.toml"),
          ("dir.toml: file: is a folder, not a file",), uploadable=False),
        c(p + "symlink-loop", path, "loop.yaml", loop("loop.yaml"),
          ("loop.yaml: file: cannot be read (Too many levels of symbolic links)",),
          uploadable=False),
        c(p + "latin1", path, "lat.toml", files(lat__toml=b'title = "caf\xe9"\n'),
          ("lat.toml: file: not UTF-8 text",)),
        c(p + "yaml-list", path, "list.yaml", files(list__yaml="- a\n- b\n"),
          ("list.yaml: file: must be a table/mapping",)),
        c(p + "toml-syntax", path, "syn.toml", files(syn__toml="x = = 1\n"),
          ("syn.toml: syntax:",)),
        c(p + "alias-bomb", path, "bomb.yaml", files(bomb__yaml=_alias_bomb()),
          ("bomb.yaml: syntax: more than 100 aliases",)),
        c(p + "json-extension", path, "conf.json", files(conf__json="{}"),
          ("conf.json: file: a", "must be .toml, .yaml or .yml"), uploadable=False),
    ]  # fmt: skip


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def config_cases() -> list[Case]:
    c = Case
    likert = '[[criteria]]\nname = "c"\ndescription = "d"\nscale = {{kind = "likert", {}}}\n'
    return [
        *declared_cases("config"),
        c("config-negative-seed", "config", "neg.toml", files(neg__toml="seed = -1\n"),
          ("neg.toml: seed: Input should be greater than or equal to 0",)),
        c("config-seed-over-2-63", "config", "huge.toml", files(huge__toml=f"seed = {2**64}\n"),
          ("huge.toml: seed: Input should be less than 9223372036854775808",)),
        c("config-seed-bool", "config", "bseed.yaml", files(bseed__yaml="seed: true\n"),
          ("bseed.yaml: seed: Input should be a valid integer",)),
        c("config-likert-1e9", "config", "lik.toml",
          files(lik__toml=likert.format("min = 1, max = 1e9")),
          ("lik.toml: criteria.0.scale.max: Input should be a valid integer",)),
        c("config-likert-span", "config", "span.toml",
          files(span__toml=likert.format("min = 0, max = 1000")),
          ("span.toml: criteria.0.scale: a likert scale from 0 to 1000 has 1,001 points",)),
        c("config-size-true", "config", "size.toml",
          files(size__toml="[calibration]\nsize = true\n"),
          ("size.toml: calibration.size: Input should be a valid integer",)),
        c("config-floor-unknown-criterion", "config", "floor.toml",
          files(floor__toml="[gate.criterion_agreement_floor]\ntone = 0.5\n"),
          ("floor.toml: gate: criterion_agreement_floor names 'tone'",
           "criteria: correctness, helpfulness, safety, format")),
        c("config-max-output-chars-zero", "config", "zero.toml",
          files(zero__toml="[limits]\nmax_output_chars = 0\n"),
          ("zero.toml: limits.max_output_chars: Input should be greater than or equal to 1",)),
        c("config-unknown-key", "config", "key.yaml", files(key__yaml="titel: x\n"),
          ("key.yaml: titel: Extra inputs are not permitted",)),
    ]  # fmt: skip


def judge_file_cases() -> list[Case]:
    c = Case
    return [
        *(c(x.id, "rubric", x.file, x.make, x.expect) for x in declared_cases("rubric")),
        c("rubric-wrong-type", "rubric", "r.toml", files(r__toml="criteria = 3\n"),
          ("r.toml: criteria: Input should be a valid",)),
        c("prices-negative", "prices", "p.toml", files(p__toml="[m]\ninput = -1\noutput = 1\n"),
          ("p.toml: m.input: Input should be greater than or equal to 0",)),
        *(
            c(x.id.replace("rubric", "prices"), "prices", x.file, x.make, x.expect)
            for x in declared_cases("rubric")[:6]
        ),
    ]  # fmt: skip


LABEL_HEADER = "pair_id,annotator,preference\n"


def labels_cases() -> list[Case]:
    c = Case
    bad_values = LABEL_HEADER + "".join(
        f"p{i % 40 + 1:03d},A{i // 40},{i % 3 + 1}\n" for i in range(1, 48)
    )
    return [
        c("labels-deep", "labels", "l.jsonl",
          files(l__jsonl=f'{{"pair_id": "p001", "annotator": "A", "x": {DEEP}}}\n'),
          ("l.jsonl:1: json: nested too deeply",)),
        c("labels-bigint", "labels", "l.jsonl",
          files(l__jsonl=f'{{"pair_id": {BIG_INT}, "annotator": "A", "preference": "tie"}}\n'),
          ("l.jsonl:1: json: not usable JSON",)),
        c("labels-47-bad-values", "labels", "l.csv", files(l__csv=bad_values),
          ("l.csv:2: preference: '2' is not candidate, baseline or tie",
           "l.csv:4: preference: '1' is not", "(47 problems)")),
        c("labels-unmapped-value", "labels", "l.csv",
          files(l__csv=LABEL_HEADER + "p001,Ana,1\np002,Ana,5\n"),
          ("l.csv:3: preference: '5' is not candidate, baseline or tie",),
          args=("--map", "1=candidate")),
        c("labels-bad-map", "labels", "l.csv", files(l__csv=LABEL_HEADER + "p001,Ana,1\n"),
          ("--map: '1=maybe' is not VALUE=MEANING",), args=("--map", "1=maybe")),
        c("labels-position-without-presented", "labels", "l.csv",
          files(l__csv=LABEL_HEADER + "p001,Ana,A\n"),
          ("l.csv:2: preference: 'A' names a position; add a presented column",)),
        c("labels-no-letters", "labels", "l.csv", files(l__csv=LABEL_HEADER + "p001,!!!,tie\n"),
          ("l.csv:2: annotator: '!!!' has no letters or digits",)),
        c("labels-same-slug", "labels", "l.csv",
          files(l__csv=LABEL_HEADER + "p001,Ana Ruiz,tie\np001,ana-ruiz,tie\n"),
          ("l.csv:3: annotator: 'ana-ruiz' and 'Ana Ruiz' (line 2) would be the same",)),
        c("labels-folder", "labels", "l.csv", folder("l.csv"), ("l.csv: file: is a folder",)),
        c("labels-empty", "labels", "l.jsonl", files(l__jsonl=b""), ("l.jsonl: file: is empty",)),
        c("labels-duplicate-header", "labels", "l.csv",
          files(l__csv="pair_id,annotator,preference,annotator\np001,A,tie,B\n"),
          ("l.csv:1: annotator: column 4 repeats column 2",)),
        c("labels-unknown-pair", "labels", "l.csv", files(l__csv=LABEL_HEADER + "zzz,Ana,tie\n"),
          ("l.csv:2: pair_id: 'zzz' is not in the study",)),
        c("labels-bad-rating", "labels", "l.csv",
          files(l__csv="pair_id,annotator,preference,correctness\np001,Ana,tie,1e9\n"),
          ("l.csv:2: correctness: '1e9' is not on the scale",)),
        c("labels-lone-surrogate", "labels", "l.jsonl",
          files(l__jsonl=b'{"pair_id": "p001", "annotator": "\\udfff", "preference": "tie"}\n'),
          ("l.jsonl:1: json: holds \\udfff",)),
    ]  # fmt: skip


VERDICT_HEADER = "pair_id,judge,preference,presented\n"


def verdicts_cases() -> list[Case]:
    c = Case
    return [
        c("verdicts-deep", "verdicts", "v.jsonl",
          files(v__jsonl=f'{{"pair_id": "p001", "judge": "j", "x": {DEEP}}}\n'),
          ("v.jsonl:1: json: nested too deeply",)),
        c("verdicts-bad-presented", "verdicts", "v.csv",
          files(v__csv=VERDICT_HEADER + "p001,j,tie,sideways\n"),
          ("v.csv:2: presented: Input should be",)),
        c("verdicts-bad-preference", "verdicts", "v.csv",
          files(v__csv=VERDICT_HEADER + "p001,j,2,candidate_first\n"),
          ("v.csv:2: preference: '2' is not candidate, baseline or tie",)),
        c("verdicts-empty", "verdicts", "v.csv", files(v__csv=b""),
          ("v.csv:1: header: file is empty",)),
        c("verdicts-folder", "verdicts", "v.jsonl", folder("v.jsonl"),
          ("v.jsonl: file: is a folder",)),
        c("verdicts-latin1", "verdicts", "v.csv",
          files(v__csv=VERDICT_HEADER.encode() + b"p001,j\xe9,tie,candidate_first\n"),
          ("v.csv:2: encoding: not UTF-8",)),
    ]  # fmt: skip


def all_cases() -> list[Case]:
    return [
        *pairs_cases(),
        *join_cases(),
        *config_cases(),
        *judge_file_cases(),
        *labels_cases(),
        *verdicts_cases(),
    ]
