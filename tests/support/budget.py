"""What the budget's tests share."""

from contextlib import contextmanager

import pytest

from affiliate_matrix.errors import BackendUnavailable


@contextmanager
def budget_index_down(rt):
    """Within the block, every write to the budget index fails as an unreachable search index does (the other
    indexes still take theirs): a run stored, then stopped before it is mirrored or announced."""
    upsert = rt.index.bulk_upsert

    def down(name, docs, **options):
        if name == "budget":
            raise BackendUnavailable("the search index is not answering")
        return upsert(name, docs, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rt.index, "bulk_upsert", down)
        yield
