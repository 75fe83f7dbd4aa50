"""Feature flags: deterministic bucketing, percentage shares, allow-lists, the document and its
seed, the published JSON Schema and every environment's flags file."""

import json
import random

import pytest

from affiliate_matrix.config import Settings
from affiliate_matrix.flag_config import FeatureFlagConfig, Flag, load, update
from affiliate_matrix.flags import FLAGS_KEY, FlagReader, bucket, is_on
from affiliate_matrix.runtime import Runtime
from tests.support.counting import CountingStore
from tests.support.processes import ROOT


def config(**flags) -> dict:
    """A validated document, as evaluation reads it: plain JSON."""
    return FeatureFlagConfig(flags={name: Flag(**spec) for name, spec in flags.items()}).model_dump(mode="json")


def test_the_same_subject_always_lands_in_the_same_bucket():
    assert bucket("quality_ranking", "tok123") == bucket("quality_ranking", "tok123")
    assert bucket("quality_ranking", "tok123") != bucket("other_flag", "tok123")  # flags bucket independently
    flags = config(quality_ranking={"kind": "percentage", "enabled": True, "percentage": 37})
    assert {is_on(flags, "quality_ranking", "tok123") for _ in range(50)} in ({True}, {False})


@pytest.mark.parametrize("share", [1, 10, 50, 90])
def test_a_percentage_flag_is_on_for_its_share_within_two_points(share):
    rng = random.Random(share)
    ids = [f"{rng.getrandbits(48):012x}" for _ in range(10_000)]
    flags = config(quality_ranking={"kind": "percentage", "enabled": True, "percentage": share})
    measured = 100 * sum(is_on(flags, "quality_ranking", i) for i in ids) / len(ids)
    assert abs(measured - share) <= 2


def test_allow_lists_and_switches():
    flags = config(quality_ranking={"kind": "percentage", "enabled": False, "percentage": 100, "allow": ["vip"]})
    assert is_on(flags, "quality_ranking", "vip") and not is_on(flags, "quality_ranking", "anyone")
    assert not is_on(flags, "quality_ranking", None) and not is_on(flags, "unknown", "vip")
    with pytest.raises(ValueError, match="a boolean flag has no percentage"):
        Flag(kind="boolean", percentage=30)
    with pytest.raises(ValueError, match="lower_snake_case"):
        FeatureFlagConfig(flags={"Bad-Name": Flag()})


def test_the_document_is_written_conditionally_and_seeded_from_the_environment(tmp_path):
    seed = tmp_path / "flags.json"
    seed.write_text(json.dumps({"flags": {"quality_ranking": {"enabled": True}}}))
    rt = Runtime("test", Settings(data_dir=tmp_path / "data", flags_file=seed))
    assert rt.flags.config()["flags"]["quality_ranking"]["enabled"]  # seeded: the store had no document
    update(rt.store, "quality_ranking", lambda flag: flag.model_copy(update={"enabled": False}))
    seed.write_text(json.dumps({"flags": {}}))
    later = Runtime("test", Settings(data_dir=tmp_path / "data", flags_file=seed))
    assert not later.flags.config()["flags"]["quality_ranking"]["enabled"]  # store wins
    _, etag = load(rt.store)
    assert etag is not None


def test_the_published_schema_and_every_environments_flags():
    schema = json.loads((ROOT / "infra" / "flags" / "feature-flags.schema.json").read_text())
    assert schema == json.loads(json.dumps(FeatureFlagConfig.model_json_schema(), sort_keys=True))
    from affiliate_matrix.flags import KNOWN

    files = sorted((ROOT / "manifests").rglob("flags.json"))
    assert len(files) == 4
    for path in files:
        flags = FeatureFlagConfig.model_validate_json(path.read_text())
        assert set(flags.flags) <= set(KNOWN), path


def test_a_flag_change_is_seen_at_the_next_read_which_rereads_only_what_changed(tmp_path):
    """The flags were trusted for AMX_FLAGS_TTL_S (10 s): a wall clock deciding whether a copy was still right, so a
    flag turned off stayed on for up to 10 s. Each read now checks the document's ETag (one HEAD) and reads it again
    only when it changed."""
    rt = Runtime("test", Settings(data_dir=tmp_path))
    store = CountingStore(rt.store)
    reader = FlagReader(lambda: store)

    def asked() -> list[str]:
        return [operation for operation, key in store.asked if key == FLAGS_KEY]

    assert reader.config() == {} and asked() == ["head"]  # no document: no flag on
    update(rt.store, "quality_ranking", lambda flag: Flag(enabled=True))
    assert reader.config()["flags"]["quality_ranking"]["enabled"] and asked()[1:] == ["head", "get"]
    assert reader.config()["flags"]["quality_ranking"]["enabled"] and asked()[3:] == ["head"]  # unchanged
    update(rt.store, "quality_ranking", lambda flag: Flag(enabled=False))
    assert not reader.config()["flags"]["quality_ranking"]["enabled"] and asked()[4:] == ["head", "get"]
    rt.store.delete(FLAGS_KEY)
    assert reader.config() == {} and asked()[6:] == ["head"]


def test_a_request_reads_the_flags_once_and_only_if_it_asks_one(tmp_path):
    from affiliate_matrix import flags

    reads = []
    request = flags.bind(lambda: reads.append(1) or config(quality_ranking={"enabled": True}), "tok")
    assert reads == [] and flags.current() is request  # bound: nothing read yet
    assert request.on("quality_ranking") and request.on("quality_ranking") and reads == [1]
