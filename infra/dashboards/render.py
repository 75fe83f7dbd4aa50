"""Write the OpenSearch Dashboards saved objects (*.ndjson beside this file) from the definitions
below: index patterns over the aliases, visualizations, and one dashboard per concern. Run after changing a definition:
    .venv/bin/python infra/dashboards/render.py
A test fails when the committed files differ from what this writes. They are for prod's index prefix, amx;
`--prefix amxdev` prints every object for another (AMX_INDEX_PREFIX) as one file to import, patterns first, which
`./task dashboards:import` imports (see the README).

Every object's id begins with the prefix, as the indices' names do: Dashboards keys an imported object by its id, and a
visualization names its index pattern by id, so two prefixes' objects in one Dashboards neither overwrite each other
nor read each other's indices.
"""

import argparse
import json
import re
import sys
from functools import partial
from pathlib import Path

from affiliate_matrix.config import INDEX_PREFIX

HERE = Path(__file__).parent
PREFIX = "amx"  # the committed files'
PATTERNS = {  # index (alias) → its time field
    "programs": "last_seen_at", "deltas": "at", "metrics": "at", "budget": "date", "activations": "at", "alerts": "at",
}


def pattern_id(prefix: str, index: str) -> str:
    return f"{prefix}-{index}-pattern"


def index_pattern(prefix: str, index: str) -> dict:
    return {"type": "index-pattern", "id": pattern_id(prefix, index), "attributes": {
        "title": f"{prefix}-{index}", "timeFieldName": PATTERNS[index]}, "references": []}


def search_source(index: str, query: str = "") -> dict:
    return {"kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index", "query": {"query": query, "language": "kuery"},
        "filter": []})}}


def visualization(prefix: str, vid: str, title: str, index: str, kind: str, aggs: list[dict], query: str = "",
                  params: dict | None = None) -> dict:
    vis_state = {"title": title, "type": kind, "params": params or {"addLegend": True, "addTooltip": True},
                 "aggs": [{"id": str(i + 1), "enabled": True, **agg} for i, agg in enumerate(aggs)]}
    return {"type": "visualization", "id": f"{prefix}-{vid}", "attributes": {
        "title": title, "visState": json.dumps(vis_state), "uiStateJSON": "{}", "description": "", "version": 1,
        **search_source(index, query)},
        "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern",
                        "id": pattern_id(prefix, index)}]}


def saved_search(prefix: str, sid: str, title: str, index: str, columns: list[str], sort: list) -> dict:
    return {"type": "search", "id": f"{prefix}-{sid}", "attributes": {"title": title, "columns": columns, "sort": sort,
                                                        "description": "", "version": 1, **search_source(index)},
            "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern",
                            "id": pattern_id(prefix, index)}]}


def dashboard(prefix: str, did: str, title: str, panels: list[dict]) -> dict:
    panel_json, references = [], []
    for i, panel in enumerate(panels):
        ref = f"panel_{i}"
        panel_json.append({"panelIndex": str(i + 1), "gridData": {"x": (i % 2) * 24, "y": (i // 2) * 15, "w": 24,
                                                                  "h": 15, "i": str(i + 1)},
                           "embeddableConfig": {}, "version": "2.19.3", "panelRefName": ref})
        references.append({"name": ref, "type": panel["type"], "id": panel["id"]})
    return {"type": "dashboard", "id": f"{prefix}-{did}", "attributes": {
        "title": f"{title} ({prefix})", "panelsJSON": json.dumps(panel_json), "optionsJSON": json.dumps({"useMargins": True}),
        "timeRestore": False, "description": "", "version": 1,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"},
                                                                  "filter": []})}},
        "references": references}


def terms(field: str, size: int = 10, schema: str = "segment") -> dict:
    return {"type": "terms", "schema": schema, "params": {"field": field, "size": size, "order": "desc",
                                                          "orderBy": "1"}}


def per_currency() -> dict:
    """A chart per currency (one row each): amounts in different currencies are never stacked or added up."""
    split = terms("currency", 10, "split")
    return {**split, "params": {**split["params"], "row": True}}


def over_time(field: str) -> dict:
    return {"type": "date_histogram", "schema": "segment", "params": {"field": field, "interval": "auto",
                                                                     "min_doc_count": 1}}


def metric(kind: str, field: str | None = None) -> dict:
    return {"type": kind, "schema": "metric", "params": {"field": field} if field else {}}


def files(prefix: str = PREFIX) -> dict[str, list[dict]]:
    makers = (visualization, saved_search, dashboard)
    visualization_, saved_search_, dashboard_ = (partial(make, prefix) for make in makers)  # for this prefix
    programs = [
        saved_search_("programs-list", "Programs", "programs",
                     ["name", "merchant_domain", "status", "categories", "networks", "commission_percent_max",
                      "cookie_days", "sources"], [["last_changed_at", "desc"]]),
        visualization_("programs-by-category", "Programs by category", "programs", "pie",
                      [metric("count"), terms("categories", 20)]),
        visualization_("programs-by-network", "Programs by network", "programs", "histogram",
                      [metric("count"), terms("networks", 15)]),
        visualization_("programs-by-status", "Programs by status", "programs", "pie",
                      [metric("count"), terms("status", 5)]),
        visualization_("commission-by-category", "Best commission % by category", "programs", "histogram",
                      [metric("max", "commission_percent_max"), terms("categories", 20)]),
    ]
    changes = [
        visualization_("changes-over-time", "Changes over time", "deltas", "histogram",
                      [metric("count"), over_time("at"), terms("change", 3, "group")]),
        visualization_("changes-by-field", "Changed fields", "deltas", "histogram",
                      [metric("count"), terms("fields", 15)]),
        visualization_("changes-by-source", "Changes by source", "deltas", "pie",
                      [metric("count"), terms("source", 15)]),
    ]
    health = [
        visualization_("verified-7d", "Share verified within 7 days, by source", "metrics", "line",
                      [metric("avg", "value"), over_time("at"), terms("labels", 20, "group")],
                      query='name:"verified_within_7d_share"'),
        visualization_("sources-by-program-count", "Programs per source", "programs", "histogram",
                      [metric("count"), terms("sources", 20)]),
        visualization_("rule-activations", "Rule activations", "activations", "histogram",
                      [metric("count"), over_time("at"), terms("decision", 4, "group")]),
        visualization_("alerts-by-severity", "Alerts by severity", "alerts", "pie",
                      [metric("count"), terms("severity", 5)]),
    ]
    keys = [
        visualization_("key-days-left", "Days until each key expires", "metrics", "histogram",
                      [metric("min", "value"), terms("labels", 30)], query='name:"key_days_left"'),
        visualization_("key-failures", "Key failures per day", "metrics", "line",
                      [metric("sum", "value"), over_time("at"), terms("labels", 30, "group")],
                      query='name:"key_failures"'),
    ]
    budget = [
        visualization_("budget-allocation", "Daily allocation by campaign", "budget", "area",
                      [metric("sum", "amount"), over_time("date"), terms("campaign_id", 20, "group"),
                       per_currency()], query='kind:"allocation"'),
        visualization_("budget-spend", "Daily spend by campaign", "budget", "area",
                      [metric("sum", "spend"), over_time("date"), terms("campaign_id", 20, "group"),
                       per_currency()], query='kind:"day"'),
        visualization_("budget-roas", "ROAS by channel", "budget", "histogram",
                      [metric("avg", "roas"), terms("channel", 8)], query='kind:"day"'),
        visualization_("budget-forecast", "Revenue forecast", "budget", "line",
                      [metric("sum", "expected_revenue"), over_time("date"), terms("campaign_id", 12, "group"),
                       per_currency()], query='kind:"forecast"'),
        visualization_("budget-pacing", "Pacing alerts by campaign", "budget", "histogram",
                      [metric("count"), over_time("date"), terms("campaign_id", 20, "group")],
                      query='kind:"pacing"'),
    ]
    return {
        "index-patterns.ndjson": [index_pattern(prefix, name) for name in PATTERNS],
        "programs-explorer.ndjson": programs + [dashboard_("dashboard-programs", "Programs explorer", programs)],
        "changes.ndjson": changes + [dashboard_("dashboard-changes", "Changes over time", changes)],
        "source-health.ndjson": health + [dashboard_("dashboard-health", "Source health", health)],
        "key-expiry.ndjson": keys + [dashboard_("dashboard-keys", "Key expiry", keys)],
        "budget.ndjson": budget + [dashboard_("dashboard-budget", "Budget allocation and pacing", budget)],
    }


def render(prefix: str = PREFIX) -> dict[str, str]:
    """Each file's text: its objects, one JSON line each. A prefix AMX_INDEX_PREFIX would refuse is refused."""
    if not re.fullmatch(INDEX_PREFIX, prefix):
        raise ValueError(f"index prefix {prefix!r}: AMX_INDEX_PREFIX is a lowercase letter, then up to 30 of a-z, 0-9, _ "
                         "and -")
    return {name: "".join(json.dumps(obj, sort_keys=True) + "\n" for obj in objects)
            for name, objects in files(prefix).items()}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", help="print the objects for this index prefix (AMX_INDEX_PREFIX) as one import file "
                                         "on standard output, instead of writing the committed files")
    args = parser.parse_args(argv)
    if args.prefix is None:
        for name, text in render().items():
            (HERE / name).write_text(text)
            print(f"wrote infra/dashboards/{name}")
        return
    try:
        sys.stdout.write("".join(render(args.prefix).values()))  # index-patterns.ndjson's first: the others name them
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main(sys.argv[1:])
