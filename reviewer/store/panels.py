"""Judge panels: a panel is registered in `judges` (provider 'panel') with its members in its
parameters; its verdicts are its members' own, so it has no rows in `verdicts`."""

from __future__ import annotations

import json
from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts

PANEL_PROVIDER = "panel"


def panels(cur: Cursor) -> list[dict[str, Any]]:
    """Every registered panel: judge_id, name, version_hash and its members (judge_id, name),
    oldest first."""
    rows = fetch_dicts(
        cur,
        "SELECT judge_id, name, model, version_hash, params_json FROM judges "
        "WHERE provider = ? ORDER BY created_at, judge_id",
        [PANEL_PROVIDER],
    )
    for row in rows:
        params = row.pop("params_json")
        row["members"] = (json.loads(params) if isinstance(params, str) else params)["members"]
    return rows
