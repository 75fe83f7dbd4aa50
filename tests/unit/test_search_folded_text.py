"""An OpenSearch index version made before its text was folded (opensearch.FOLDED), against a node modelled here: the
real node's side is in tests/contract/test_index_lifecycle.py (slow). Whether another process has migrated it since
this one read its mapping is what a single real node cannot show on cue."""

from types import SimpleNamespace

import pytest

from affiliate_matrix.search import IndexBehind, SearchQuery
from affiliate_matrix.search.opensearch import FOLDED, OpenSearchIndex, mapping_for
from tests.support.things import SPEC

PHYSICAL = SPEC.physical("t")


class Node:
    """The calls a search makes of a node whose live version's mapping is `mapping`; the bodies it was asked."""

    def __init__(self, mapping: dict):
        self.mapping, self.asked = mapping, []
        self.indices = SimpleNamespace(get_mapping=lambda index: {PHYSICAL: {"mappings": self.mapping}})

    def search(self, index, body, preference=None):
        self.asked.append(body)
        return {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}


def unfolded() -> dict:
    """SPEC's mapping as it was before its text was folded: text fields searched as they are, nothing beside."""
    mapping = mapping_for(SPEC)
    del mapping["properties"][FOLDED], mapping["_source"]
    return mapping


def test_a_search_of_a_version_holding_its_text_unfolded_names_the_migration_then_follows_it():
    node = Node(unfolded())
    index = OpenSearchIndex(node, prefix="t")
    with pytest.raises(IndexBehind, match="amx index migrate things"):
        index.search("things", SearchQuery(text="hosting"))
    assert node.asked == []  # not asked: it would have found nothing, as if nothing matched
    node.mapping = mapping_for(SPEC)  # another process migrated it since this one read the mapping
    index.search("things", SearchQuery(text="hosting"))
    (words,) = node.asked[0]["query"]["bool"]["must"]
    assert words["multi_match"]["fields"] == [f"{FOLDED}.name", f"{FOLDED}.description"]
