#!/usr/bin/env python3
"""Check a Grafana dashboard JSON against Grafana's own schema, without a Grafana server.

Decodes the file with grafana-foundation-sdk (the typed models Grafana generates from its
schemas), encodes it back and compares: a key the models do not know is dropped on the way
through, so any key missing after the round trip is a typo or an unsupported setting that
Grafana would silently ignore. Also requires every query to decode as a Prometheus query
(an unknown datasource would hide its keys from the check) and every panel to have a
unique id and a title.

    python deploy/grafana/check_dashboard.py deploy/grafana/prospector.json

Prints each problem and exits 1 if there is any; prints a summary and exits 0 otherwise.
"""

from __future__ import annotations

import json
import sys
from typing import Any

try:
    from grafana_foundation_sdk.cog import encoder, plugins
    from grafana_foundation_sdk.cog.runtime import UnknownDataquery
    from grafana_foundation_sdk.models import dashboard, prometheus
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("grafana-foundation-sdk is not installed: run `bash scripts/bootstrap.sh`")


def lost_keys(original: Any, round_tripped: Any, path: str) -> list[str]:
    """Keys of `original` that are missing (or changed) in `round_tripped`."""
    problems: list[str] = []
    if isinstance(original, dict):
        if not isinstance(round_tripped, dict):
            return [f"{path}: became {type(round_tripped).__name__}"]
        for key, value in original.items():
            if key not in round_tripped:
                problems.append(f"{path}.{key}: unknown key (dropped by Grafana's schema)")
            else:
                problems += lost_keys(value, round_tripped[key], f"{path}.{key}")
    elif isinstance(original, list):
        if not isinstance(round_tripped, list) or len(original) != len(round_tripped):
            return [f"{path}: list changed on the round trip"]
        for index, (a, b) in enumerate(zip(original, round_tripped)):
            problems += lost_keys(a, b, f"{path}[{index}]")
    elif original != round_tripped:
        problems.append(f"{path}: {original!r} became {round_tripped!r}")
    return problems


def all_panels(panels: list[Any]) -> list[Any]:
    flat = []
    for panel in panels or []:
        flat.append(panel)
        flat += all_panels(getattr(panel, "panels", None) or [])
    return flat


def structural_problems(model: dashboard.Dashboard) -> list[str]:
    problems = []
    seen_ids: set[int] = set()
    for panel in all_panels(model.panels):
        name = f"panel {panel.id_val} ({panel.title!r})"
        if panel.id_val in seen_ids:
            problems.append(f"{name}: duplicate panel id")
        seen_ids.add(panel.id_val)
        if not panel.title:
            problems.append(f"{name}: no title")
        if isinstance(panel, dashboard.RowPanel):
            continue
        if not panel.targets:
            problems.append(f"{name}: no queries")
        for target in panel.targets or []:
            if isinstance(target, UnknownDataquery) or not isinstance(
                target, prometheus.Dataquery
            ):
                problems.append(f"{name}: query is not a Prometheus query (datasource type?)")
            elif not target.expr:
                problems.append(f"{name}: query {target.ref_id} has no expr")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DASHBOARD.json")
    path = sys.argv[1]
    try:
        with open(path, encoding="utf-8") as file:
            original = json.load(file)
    except (OSError, json.JSONDecodeError) as err:
        sys.exit(f"cannot read dashboard {path}: {err}")
    plugins.register_default_plugins()
    model = dashboard.Dashboard.from_json(original)
    round_tripped = json.loads(json.dumps(model, cls=encoder.JSONEncoder))
    problems = lost_keys(original, round_tripped, "$") + structural_problems(model)
    for problem in problems:
        print(f"{path}: {problem}")
    if problems:
        return 1
    print(f"{path}: {len(all_panels(model.panels))} panels, schema round trip clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
