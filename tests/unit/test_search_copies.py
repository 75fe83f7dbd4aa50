"""Which shard copy an OpenSearch search reads, against a node of two copies modelled here: a real replica refreshes
on its own schedule, which a single test node (no replica can be allocated beside its primary) cannot show on cue.
The real node's side is in tests/contract/test_search_index.py."""

from types import SimpleNamespace

from affiliate_matrix.search import SearchQuery
from affiliate_matrix.search.opensearch import OpenSearchIndex, mapping_for
from tests.support.things import SPEC, docs

PHYSICAL = SPEC.physical("t")


class OneShardTwoCopies:
    """The calls OpenSearchIndex makes of a node holding one shard as a primary and a replica. Each copy shows searches
    the documents as of its last refresh and counts its refreshes; a search without a preference goes to the replica
    (a real node picks either, by adaptive replica selection), one with `_primary` to the primary."""

    def __init__(self):
        self.written: list[dict] = []
        self.shown = {"primary": [], "replica": []}
        self.refreshes = {"primary": 0, "replica": 0}
        self.indices = SimpleNamespace(stats=self.stats, get_mapping=self.get_mapping)
        self.cluster = SimpleNamespace(state=self.state)

    def refresh(self, copy: str) -> None:
        self.shown[copy], self.refreshes[copy] = list(self.written), self.refreshes[copy] + 1

    def stats(self, index, metric):
        counted = {"primaries": {"refresh": {"external_total": self.refreshes["primary"]}},
                   "total": {"refresh": {"external_total": sum(self.refreshes.values())}}}
        return {"indices": {PHYSICAL: counted}}

    def state(self, metric, index, filter_path):
        copies = [{"primary": True, "allocation_id": {"id": "a1"}}, {"primary": False, "allocation_id": {"id": "a2"}}]
        return {"metadata": {"indices": {PHYSICAL: {"settings": {"index": {"uuid": "u1"}}, "primary_terms": {"0": 1}}}},
                "routing_table": {"indices": {PHYSICAL: {"shards": {"0": copies}}}}}

    def get_mapping(self, index):
        return {PHYSICAL: {"mappings": mapping_for(SPEC)}}

    def search(self, index, body, preference=None):
        shown = self.shown["primary" if preference in ("_primary", "_primary_first") else "replica"]
        hits = [{"_id": doc["id"], "_score": None, "_source": doc, "sort": [doc["id"]]} for doc in shown]
        return {"hits": {"total": {"value": len(shown)}, "hits": hits[:body["size"]]}, "aggregations": {}}


def test_an_answer_read_after_the_generation_holds_every_write_it_counts_while_a_replica_lags():
    """The programs API caches an answer under the generation it read first. The generation counts the primary's
    refreshes, but a search went to whichever copy the node chose: a replica whose own refresh had not run yet
    answered without a write the primary already showed, and that answer was kept under the generation the write
    made, served (and 304s to its ETag given) until the next write."""
    node = OneShardTwoCopies()
    idx = OpenSearchIndex(node, prefix="t")
    node.written += docs()[:2]
    node.refresh("primary"), node.refresh("replica")
    before = idx.generation("things")
    node.written.append(docs()[2])
    node.refresh("primary")  # the primary's scheduled refresh has run, the replica's not yet
    now = idx.generation("things")
    seen = idx.search("things", SearchQuery(size=10))
    assert now != before and seen.total == 3 and [hit.id for hit in seen.hits] == [d["id"] for d in docs()[:3]]
