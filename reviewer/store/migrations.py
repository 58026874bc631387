"""Append-only, named schema migrations.

Each migration runs once, in its own transaction, and is recorded in `_signoff_migrations`.
Never edit or reorder a migration that has shipped: add a new one. The SQL is the subset DuckDB
and PostgreSQL share (m003 spells DuckDB's DOUBLE as DOUBLE PRECISION, its standard alias:
the same column type in DuckDB, so databases made before that change are unaffected).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Migration = Callable[[Any], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


# The first schema, as shipped: studies, pairs, annotators, assignments, labels, judges,
# verdicts and the audit trail. Kept as one statement so that it never changes.
M001_INITIAL = """
        CREATE TABLE studies (
            study_id      VARCHAR PRIMARY KEY,
            created_at    TIMESTAMPTZ NOT NULL,
            config_json   JSON NOT NULL,
            config_hash   VARCHAR NOT NULL,
            seed          BIGINT NOT NULL,
            pairs_hash    VARCHAR NOT NULL,   -- order-free hash of every pair's content
            source        VARCHAR NOT NULL,   -- file(s) the pairs came from
            frozen_at     TIMESTAMPTZ,        -- set by the first label: pairs and config fixed
            unblinded_at  TIMESTAMPTZ         -- set when model identities may be shown
        );
        CREATE TABLE pairs (
            study_id          VARCHAR NOT NULL,
            pair_id           VARCHAR NOT NULL,
            position          INTEGER NOT NULL,  -- row order in the imported file
            prompt_json       JSON NOT NULL,     -- a string, or a list of chat messages
            candidate         VARCHAR NOT NULL,
            baseline          VARCHAR NOT NULL,
            candidate_model   VARCHAR,
            baseline_model    VARCHAR,
            stratum           VARCHAR NOT NULL,
            reference         VARCHAR,
            metadata_json     JSON NOT NULL,
            content_hash      VARCHAR NOT NULL,
            identical_outputs BOOLEAN NOT NULL,
            in_calibration    BOOLEAN NOT NULL,
            PRIMARY KEY (study_id, pair_id)
        );
        CREATE TABLE annotators (
            study_id      VARCHAR NOT NULL,
            annotator_id  VARCHAR NOT NULL,
            display_name  VARCHAR NOT NULL,
            token_hash    VARCHAR,            -- sha256 of the access token; NULL: cannot log in
            role          VARCHAR NOT NULL,   -- annotator | sample | imported
            created_at    TIMESTAMPTZ NOT NULL,
            revoked_at    TIMESTAMPTZ,
            PRIMARY KEY (study_id, annotator_id)
        );
        CREATE TABLE assignments (
            study_id        VARCHAR NOT NULL,
            pair_id         VARCHAR NOT NULL,
            annotator_id    VARCHAR NOT NULL,
            candidate_left  BOOLEAN NOT NULL,   -- orientation this annotator sees
            position        INTEGER NOT NULL,   -- place in this annotator's queue
            in_calibration  BOOLEAN NOT NULL,
            assigned_at     TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (study_id, pair_id, annotator_id)
        );
        CREATE SEQUENCE label_ids;
        CREATE TABLE labels (
            label_id        BIGINT PRIMARY KEY DEFAULT nextval('label_ids'),
            study_id        VARCHAR NOT NULL,
            pair_id         VARCHAR NOT NULL,
            annotator_id    VARCHAR NOT NULL,
            preference      VARCHAR NOT NULL CHECK (preference IN ('candidate', 'baseline', 'tie')),
            both_bad        BOOLEAN NOT NULL DEFAULT FALSE,
            criteria_json   JSON NOT NULL,
            rationale       VARCHAR,
            flag_reason     VARCHAR,
            candidate_left  BOOLEAN,            -- orientation shown; NULL for imported labels
            shown_at        TIMESTAMPTZ,
            submitted_at    TIMESTAMPTZ NOT NULL,
            revision        INTEGER NOT NULL,   -- 1, 2, ... per (pair, annotator); latest counts
            source          VARCHAR NOT NULL    -- app | sample | import:<file hash>
        );
        CREATE TABLE judges (
            judge_id      VARCHAR PRIMARY KEY,
            name          VARCHAR NOT NULL,
            provider      VARCHAR NOT NULL,     -- openai | anthropic | openai-compatible | external
            model         VARCHAR,
            params_json   JSON NOT NULL,
            rubric_json   JSON,
            template      VARCHAR,
            version_hash  VARCHAR NOT NULL,
            created_at    TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE verdicts (
            study_id        VARCHAR NOT NULL,
            pair_id         VARCHAR NOT NULL,
            judge_id        VARCHAR NOT NULL,
            presented       VARCHAR NOT NULL,   -- candidate_first | baseline_first | unknown
            preference      VARCHAR NOT NULL CHECK (preference IN ('candidate', 'baseline', 'tie')),
            criteria_json   JSON NOT NULL,
            rationale       VARCHAR,
            call_key        VARCHAR,            -- judge_calls row that produced it
            source          VARCHAR NOT NULL,   -- run | import:<file hash>
            created_at      TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (study_id, pair_id, judge_id, presented)
        );
        CREATE SEQUENCE event_ids;
        CREATE TABLE events (
            event_id      BIGINT PRIMARY KEY DEFAULT nextval('event_ids'),
            occurred_at   TIMESTAMPTZ NOT NULL,
            study_id      VARCHAR,
            actor         VARCHAR NOT NULL,
            kind          VARCHAR NOT NULL,
            payload_json  JSON NOT NULL
        );
        CREATE INDEX labels_by_pair ON labels (study_id, pair_id, annotator_id);
"""


@migration
def m001_initial(cur: Any) -> None:
    cur.execute(M001_INITIAL)


@migration
def m002_views(cur: Any) -> None:
    # A view is one display of a pair to an annotator, with the orientation actually shown.
    # A label submitted in the app names its view: the label then carries that orientation and
    # time on task even if assignments were re-planned meanwhile, and a double press (or a
    # retried request) stores it once, since the view id is unique among labels.
    cur.execute(
        """
        CREATE TABLE views (
            view_id         VARCHAR PRIMARY KEY,
            study_id        VARCHAR NOT NULL,
            annotator_id    VARCHAR NOT NULL,
            pair_id         VARCHAR NOT NULL,
            candidate_left  BOOLEAN NOT NULL,
            shown_at        TIMESTAMPTZ NOT NULL
        );
        ALTER TABLE labels ADD COLUMN view_id VARCHAR;
        CREATE UNIQUE INDEX labels_view ON labels (view_id);
        CREATE INDEX assignments_queue ON assignments (study_id, annotator_id, position);
        """
    )


@migration
def m003_judge_calls(cur: Any) -> None:
    # Every call a judge run makes, like a flight recorder: hits, misses, failures, with tokens,
    # latency and cost. A successful row's answer is the cache for the same key; API keys are
    # never part of a request row.
    cur.execute(
        """
        CREATE SEQUENCE judge_call_ids;
        CREATE TABLE judge_calls (
            call_id        BIGINT PRIMARY KEY DEFAULT nextval('judge_call_ids'),
            study_id       VARCHAR NOT NULL,
            judge_id       VARCHAR NOT NULL,
            pair_id        VARCHAR NOT NULL,
            presented      VARCHAR NOT NULL,
            cache_key      VARCHAR NOT NULL,
            outcome        VARCHAR NOT NULL,     -- ok | cached | parse_failure | error
            attempt        INTEGER NOT NULL,
            request_json   JSON,
            response_text  VARCHAR,
            input_tokens   INTEGER NOT NULL,
            output_tokens  INTEGER NOT NULL,
            cost_usd       DOUBLE PRECISION NOT NULL,
            latency_ms     DOUBLE PRECISION,
            error          VARCHAR,
            created_at     TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX judge_calls_key ON judge_calls (cache_key);
        """
    )


@migration
def m004_calibrations(cur: Any) -> None:
    # One row per calibration of one judge version on one part of the calibration set, with the
    # metrics, the gate's rule-by-rule result, and the config hash the gate was read from.
    cur.execute(
        """
        CREATE SEQUENCE calibration_ids;
        CREATE TABLE calibrations (
            calibration_id  BIGINT PRIMARY KEY DEFAULT nextval('calibration_ids'),
            study_id        VARCHAR NOT NULL,
            judge_id        VARCHAR NOT NULL,
            part            VARCHAR NOT NULL,   -- development | held-out | all
            metrics_json    JSON NOT NULL,
            gate_json       JSON,               -- null: the gate is not decided on this part
            passed          BOOLEAN,
            config_hash     VARCHAR NOT NULL,
            created_at      TIMESTAMPTZ NOT NULL
        );
        """
    )


@migration
def m005_judge_calls_served_model(cur: Any) -> None:
    # The model the provider said answered each call ("gpt-4o" is a moving alias; the reply
    # names the dated snapshot). A cached row carries the one of the call it reuses; rows
    # logged before this migration have none.
    cur.execute("ALTER TABLE judge_calls ADD COLUMN served_model VARCHAR")


@migration
def m006_events_origin(cur: Any) -> None:
    # Which process wrote each event: app replicas and terminals share one PostgreSQL database,
    # and the audit trail must say who wrote what. Older rows have neither.
    cur.execute("ALTER TABLE events ADD COLUMN host VARCHAR")
    cur.execute("ALTER TABLE events ADD COLUMN pid INTEGER")


@migration
def m007_judge_batches(cur: Any) -> None:
    # Every batch a judge run submits to a provider's batch API. The row is written before the
    # batch is sent (with the run's own tag, which OpenAI keeps in the batch's metadata) and
    # given the provider's id once accepted: a run killed while it waits resumes by polling the
    # same batch ids (those not yet collected), and one killed while it submitted finds its
    # batch by the tag, so no request is submitted twice.
    cur.execute(
        """
        CREATE TABLE judge_batches (
            tag            VARCHAR PRIMARY KEY,  -- signoff's own name for the batch
            batch_id       VARCHAR UNIQUE,       -- the provider's id; NULL until it answered
            study_id       VARCHAR NOT NULL,
            judge_id       VARCHAR NOT NULL,
            provider       VARCHAR NOT NULL,
            scope          VARCHAR NOT NULL,     -- the pairs the run judged (development, all...)
            requests       INTEGER NOT NULL,
            status         VARCHAR NOT NULL,     -- submitting | submitted | completed | expired
                                                 -- | failed | cancelled | not_submitted
            answered       INTEGER,              -- requests answered, once collected
            failed         INTEGER,              -- requests the provider failed, once collected
            submitted_at   TIMESTAMPTZ NOT NULL,
            collected_at   TIMESTAMPTZ           -- NULL: still to poll and collect
        );
        CREATE INDEX judge_batches_open ON judge_batches (study_id, judge_id, collected_at);
        """
    )


def apply_migrations(conn: Any) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _signoff_migrations "
        "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _signoff_migrations").fetchall()}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            fn(conn)
            conn.execute("INSERT INTO _signoff_migrations VALUES (?, now())", [name])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(name)
    return applied
