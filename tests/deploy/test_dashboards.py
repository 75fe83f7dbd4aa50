"""Dashboards saved objects and alert rules, checked structurally: the committed files are what
infra/dashboards/render.py writes, every reference resolves, every aggregation names a field its
index has with a type that aggregates, and every alert reads metrics the functions export; every kind of
outbound call that counts its retries has an alert on them."""

import importlib.util
import json
import re

import pytest
import yaml

from affiliate_matrix.observability import telemetry
from affiliate_matrix.indices import index_specs
from tests.support.processes import ROOT

FOLDER = ROOT / "infra" / "dashboards"


def renderer():
    spec = importlib.util.spec_from_file_location("render", FOLDER / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def objects() -> list[dict]:
    return [json.loads(line) for path in sorted(FOLDER.glob("*.ndjson")) for line in path.read_text().splitlines()]


def test_committed_files_are_what_the_renderer_writes():
    rendered = renderer().render()
    assert sorted(rendered) == sorted(p.name for p in FOLDER.glob("*.ndjson"))
    for name, text in rendered.items():
        assert (FOLDER / name).read_text() == text, f"{name} is stale: run infra/dashboards/render.py"


def test_references_resolve_and_fields_exist_with_types_that_aggregate():
    saved = objects()
    by_id = {(o["type"], o["id"]): o for o in saved}
    assert len(by_id) == len(saved), "duplicate saved-object ids"
    specs = {f"amx-{name}": spec for name, spec in index_specs().items()}
    patterns = {o["id"]: o["attributes"]["title"] for o in saved if o["type"] == "index-pattern"}
    for pattern in (o for o in saved if o["type"] == "index-pattern"):
        spec = specs[pattern["attributes"]["title"]]
        assert spec.fields[pattern["attributes"]["timeFieldName"]] == "date"
    assert {o["type"] for o in saved} == {"index-pattern", "visualization", "search", "dashboard"}
    for obj in saved:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in by_id, f"{obj['id']} refers to missing {ref['type']} {ref['id']}"
        if obj["type"] in ("visualization", "search"):
            source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
            (index_ref,) = [r for r in obj["references"] if r["name"] == source["indexRefName"]]
            spec = specs[patterns[index_ref["id"]]]
        if obj["type"] == "visualization":
            state = json.loads(obj["attributes"]["visState"])
            assert state["title"] == obj["attributes"]["title"]
            for agg in state["aggs"]:
                field = agg["params"].get("field")
                if field is None:
                    continue
                kind = spec.fields.get(field)
                assert kind in ("keyword", "number", "date", "bool"), f"{obj['id']}: {field} is {kind} in {spec.name}"
                if agg["type"] in ("sum", "avg", "min", "max"):
                    assert kind == "number", f"{obj['id']}: {agg['type']} over {field} ({kind})"
                if agg["type"] == "date_histogram":
                    assert kind == "date"
        if obj["type"] == "search":
            assert all(column in spec.fields for column in obj["attributes"]["columns"])
        if obj["type"] == "dashboard":
            panels = json.loads(obj["attributes"]["panelsJSON"])
            assert sorted(p["panelRefName"] for p in panels) == sorted(r["name"] for r in obj["references"])
    titles = {o["attributes"]["title"] for o in saved if o["type"] == "dashboard"}
    assert titles == {"Programs explorer (amx)", "Changes over time (amx)", "Source health (amx)", "Key expiry (amx)",
                      "Budget allocation and pacing (amx)"}


def test_the_objects_for_another_prefix_name_only_its_indices_and_the_patterns_they_define():
    """README gave a sed for dev's and staging's prefixes that changed the index patterns' titles only: their ids, and
    so the visualizations naming them, stayed prod's, so one Dashboards holding both had the last import's patterns
    under every visualization."""
    module = renderer()
    dev = [json.loads(line) for text in module.render("amxdev").values() for line in text.splitlines()]
    assert len(dev) == len(objects())
    patterns = {o["id"]: o["attributes"]["title"] for o in dev if o["type"] == "index-pattern"}
    assert sorted(patterns.values()) == sorted(f"amxdev-{name}" for name in module.PATTERNS)
    assert all(o["id"].startswith("amxdev-") for o in dev)
    assert not {o["id"] for o in dev} & {o["id"] for o in objects()}, "an id prod's objects have too"
    assert "amx-" not in json.dumps(dev).replace("amxdev-", ""), "prod's indices or objects named"
    ids = {(o["type"], o["id"]) for o in dev}
    for obj in dev:
        assert all((r["type"], r["id"]) in ids for r in obj["references"]), obj["id"]
        assert all(r["id"] in patterns for r in obj["references"] if r["type"] == "index-pattern"), obj["id"]


def test_the_import_file_for_a_prefix_holds_every_object_its_patterns_first(capsys):
    renderer().main(["--prefix", "amxstg"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    patterns = [o["type"] == "index-pattern" for o in printed]
    assert len(printed) == len(objects()) and patterns == sorted(patterns, reverse=True)  # the others name them


def test_a_prefix_amx_index_prefix_refuses_is_refused(capsys):
    with pytest.raises(SystemExit):
        renderer().main(["--prefix", "amx*"])
    assert "index prefix 'amx*': AMX_INDEX_PREFIX is" in capsys.readouterr().err


def test_alert_rules_read_metrics_the_functions_export():
    exported = {metric._name for metric in vars(telemetry).values() if hasattr(metric, "_name")}
    rules = yaml.safe_load((ROOT / "infra" / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert len(rules) >= 5
    readme = (ROOT / "README.md").read_text()
    for rule in rules:
        names = set(re.findall(r"\b(amx_[a-z_]+?)(?:_bucket|_total|_count|_sum)?\b", rule["expr"]))
        assert names and names <= exported, f"{rule['alert']} reads {names - exported}"
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        assert f"`{rule['alert']}`" in readme, f"{rule['alert']} is not explained in the README runbook"


def test_every_kind_of_retried_call_has_an_alert_on_its_retries():
    rules = yaml.safe_load((ROOT / "infra" / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    retries = re.compile(r'amx_retries_total\{what(=~|=)"([^"]+)"\}')
    matchers = [found for rule in rules for found in retries.findall(rule["expr"])]
    watched = [re.compile(pattern if op == "=~" else re.escape(pattern)) for op, pattern in matchers]  # both anchored
    sources = "".join(path.read_text() for path in (ROOT / "shared" / "affiliate_matrix").rglob("*.py"))
    kinds = set(re.findall(r'PoliteClient\(\s*"([a-z_]+)"', sources))  # each caller names itself in amx_retries{what}
    assert {"fetch", "sync", "webhook", "discovery"} <= kinds
    assert not {kind for kind in kinds if not any(pattern.fullmatch(kind) for pattern in watched)}
