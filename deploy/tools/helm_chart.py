#!/usr/bin/env python3
"""Lint or render a Helm chart without the helm CLI.

Uses helm-python-sdk (PyPI), which carries Helm's Go SDK as a shared library, so it works
offline and needs no helm binary (scripts/bootstrap.sh installs it into the project venv).
The tests in tests/deploy_helm.rs call it; operators without helm can use it too:

    python deploy/tools/helm_chart.py lint deploy/helm/prospector -f my-values.yaml
    python deploy/tools/helm_chart.py template deploy/helm/prospector -f my-values.yaml \
        --set scorer.device=cpu > prospector.yaml

`lint` prints every finding and exits 1 if any is a warning or an error (helm lint --strict).
`template` prints the rendered manifests as YAML (or, with --json, a JSON list of objects)
and exits 1 if the values fail the chart's schema or a template fails to render.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

try:
    import helm_python as helm
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("helm-python-sdk is not installed: run `bash scripts/bootstrap.sh`")

SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
KUBE_VERSION = "v1.33.0"


class _BlockStrings(yaml.SafeDumper):
    """Writes multi-line strings (prospector.toml) as readable `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStrings.add_representer(str, _represent_str)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's values precedence: maps merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def user_values(files: list[str], sets: list[str], set_jsons: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in files:
        try:
            loaded = yaml.safe_load(Path(name).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            sys.exit(f"cannot read values file {name}: {err}")
        if not isinstance(loaded, dict):
            sys.exit(f"values file {name} is not a mapping")
        values = deep_merge(values, loaded)
    for expression in sets:
        values = deep_merge(values, helm.parse_set_string(expression))
    for expression in set_jsons:
        values = deep_merge(values, helm.parse_set_json(expression))
    return values


def lint(args: argparse.Namespace, values: dict[str, Any]) -> int:
    report = helm.lint(args.chart, values, strict=True, kube_version=KUBE_VERSION)
    findings = [m for m in report["messages"] if m["severity"] >= 2]
    for message in report["messages"]:
        print(f"[{SEVERITY.get(message['severity'], '?')}] {message['path']}: {message['error']}")
    for error in report.get("errors") or []:
        print(f"[ERROR] {error}")
    linted = report["total_charts_linted"]
    print(f"{linted} chart(s) linted, {len(findings)} warning(s) or error(s)")
    return 1 if findings or report.get("errors") or linted == 0 else 0


def template(args: argparse.Namespace, values: dict[str, Any]) -> int:
    chart = helm.Chart.load(args.chart)
    try:
        chart.validate_schema(values)
        rendered = chart.render(
            values, name=args.name, namespace=args.namespace, is_install=True
        )
    except helm.HelmError as err:
        print(f"cannot render {args.chart}: {err}", file=sys.stderr)
        return 1
    documents = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(rendered[path]):
            if doc:
                documents.append(doc)
    if args.json:
        json.dump(documents, sys.stdout, indent=1)
        print()
    else:
        yaml.dump_all(
            documents, sys.stdout, Dumper=_BlockStrings, sort_keys=False, explicit_start=True
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["lint", "template"])
    parser.add_argument("chart")
    parser.add_argument("-f", "--values", action="append", default=[], help="values file")
    parser.add_argument("--set", action="append", default=[], help="helm --set expression")
    parser.add_argument("--set-json", action="append", default=[], help="helm --set-json")
    parser.add_argument("--name", default="prospector", help="release name")
    parser.add_argument("--namespace", default="prospector")
    parser.add_argument("--json", action="store_true", help="template: a JSON list")
    args = parser.parse_args()
    values = user_values(args.values, args.set, args.set_json)
    return lint(args, values) if args.command == "lint" else template(args, values)


if __name__ == "__main__":
    sys.exit(main())
