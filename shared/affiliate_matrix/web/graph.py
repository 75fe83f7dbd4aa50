"""Merchants, networks and sources as a graph, laid out on the server in three columns (sources,
merchants, networks) so the page draws it as plain SVG with no script. Only the geometry: what is
drawn and where each node links to are the page's (pages.graph_page)."""

from collections.abc import Callable

COLUMNS = ("source", "merchant", "network")
WIDTH, ROW, TOP, LEFT, RIGHT = 900, 34, 40, 230, 700  # labels: sources left of their dot, others right
MAX_NODES = 60  # per column: a bigger graph is not readable on a page


def merchant_edges(view: dict) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """A merchant's sources and networks, from the merchant view (one row per source's claim)."""
    merchant = ("merchant", view["merchant_key"])
    edges = []
    for row in view["rows"]:
        edges.append((("source", row["source"]), merchant))
        if row["network"]:
            edges.append((merchant, ("network", row["network"])))
    return edges


def search_edges(items: list[dict]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Every merchant in a search result page with its programs' sources and networks."""
    edges = []
    for item in items:
        merchant = ("merchant", item["merchant_key"])
        edges += [(("source", source), merchant) for source in item.get("sources") or []]
        edges += [(merchant, ("network", network)) for network in item.get("networks") or []]
    return edges


def layout(edges, link: Callable[[str, str], str | None], label: Callable[[str, str], str]) -> dict:
    """Nodes placed column by column in the order first met, each with link(kind, name) as its href and
    label(kind, name) as its label; edges as line end points."""
    unique = list(dict.fromkeys(edges))
    columns: dict[str, list[str]] = {kind: [] for kind in COLUMNS}
    for a, b in unique:
        for kind, name in (a, b):
            if name not in columns[kind] and len(columns[kind]) < MAX_NODES:
                columns[kind].append(name)
    x = dict(zip(COLUMNS, (LEFT, WIDTH // 2, RIGHT)))
    position = {(kind, name): (x[kind], TOP + i * ROW) for kind in COLUMNS for i, name in enumerate(columns[kind])}
    nodes = [{"kind": kind, "name": name, "x": px, "y": py, "href": link(kind, name),
              "label": label(kind, name)}
             for (kind, name), (px, py) in position.items()]
    lines = [{"x1": position[a][0], "y1": position[a][1], "x2": position[b][0], "y2": position[b][1]}
             for a, b in unique if a in position and b in position]
    rows = max((len(names) for names in columns.values()), default=0)
    return {"nodes": nodes, "edges": lines, "width": WIDTH, "height": TOP * 2 + max(rows - 1, 0) * ROW,
            "counts": {kind: len(names) for kind, names in columns.items()}, "x": x}
