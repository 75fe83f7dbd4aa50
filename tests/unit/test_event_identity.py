"""The issuer's key cache (events/identity.py): keys are fetched on first use and again only for a
key id not held, at most once per interval; no clock expires a key. The clock is a counter the
test moves, so nothing waits. The issuer's documents are read within a size cap and a whole-fetch
deadline, against a local server that misbehaves on purpose."""

import json

import pytest

from affiliate_matrix.errors import BackendUnavailable, Unauthorized
from affiliate_matrix.events.identity import (MAX_TOKEN_LIFETIME_S, PINGSOURCE, REFETCH_INTERVAL_S, TRIGGER, Issuer,
                                              audience, child_name, fetch_json, oidc_service_account, subject, verify)
from affiliate_matrix.localrun.issuer import LocalIssuer
from tests.support.clock import ManualClock


@pytest.fixture
def local(tmp_path):
    return LocalIssuer(tmp_path / "issuer")


def token(local: LocalIssuer, function: str = "index") -> str:
    return "Bearer " + local.token(audience("ns", function), subject("ns", "t"))


def test_a_rotated_key_is_fetched_when_a_token_names_it_and_a_retired_one_is_dropped(local):
    clock = ManualClock()
    issuer = Issuer(local.discovery_url, clock=clock)
    assert verify(token(local), issuer, audience("ns", "index"), "ns")["sub"] == subject("ns", "t")
    assert issuer.fetches == 1
    verify(token(local), issuer, audience("ns", "index"), "ns")
    assert issuer.fetches == 1  # known key: no fetch, however much time passes
    old = local.kid
    local.rotate()
    clock.advance(REFETCH_INTERVAL_S)
    verify(token(local), issuer, audience("ns", "index"), "ns")
    assert issuer.fetches == 2 and set(issuer.keys) == {old, local.kid}
    local.retire_oldest()
    newest = local.kid
    local.rotate()
    clock.advance(REFETCH_INTERVAL_S)
    verify(token(local), issuer, audience("ns", "index"), "ns")
    assert old not in issuer.keys and set(issuer.keys) == {newest, local.kid}


def test_unknown_key_ids_refetch_at_most_once_per_interval(local):
    clock = ManualClock()
    issuer = Issuer(local.discovery_url, clock=clock)
    assert issuer.key(local.kid) is not None and issuer.fetches == 1
    for n in range(50):  # a flood of made-up key ids: retry later (503), no fetch
        with pytest.raises(BackendUnavailable):
            issuer.key(f"made-up-{n}")
    assert issuer.fetches == 1
    clock.advance(REFETCH_INTERVAL_S)
    assert issuer.key("made-up-again") is None and issuer.fetches == 2  # refetched, not published: refused


def test_made_up_key_ids_do_not_make_a_real_event_with_a_just_rotated_key_refused_for_good(local):
    """Anyone who reaches a function can send tokens naming made-up keys, and each unknown key id may cause the one
    refetch an interval allows. A real event signed with a key the issuer rotated in just then was a 401 (never
    retried: the event was lost); it is a 503 now, and its retry after the interval is taken."""
    clock = ManualClock()
    issuer = Issuer(local.discovery_url, clock=clock)
    verify(token(local), issuer, audience("ns", "index"), "ns")
    clock.advance(REFETCH_INTERVAL_S)
    assert issuer.key("made-up") is None and issuer.fetches == 2  # the attacker's token used the refetch
    local.rotate()
    with pytest.raises(BackendUnavailable) as caught:
        verify(token(local), issuer, audience("ns", "index"), "ns")
    assert caught.value.retry_after > 0
    clock.advance(REFETCH_INTERVAL_S)
    assert verify(token(local), issuer, audience("ns", "index"), "ns")["sub"] == subject("ns", "t")


def test_an_unreachable_issuer_is_retriable_not_a_refusal(local):
    clock, calls = ManualClock(), []

    def down(url):
        calls.append(url)
        raise BackendUnavailable("issuer down")

    issuer = Issuer(local.discovery_url, fetch=down, clock=clock)
    with pytest.raises(BackendUnavailable):
        issuer.key(local.kid)
    with pytest.raises(BackendUnavailable):  # within the interval: no second fetch, still retriable
        issuer.key(local.kid)
    assert len(calls) == 1
    issuer._fetch = fetch_json
    clock.advance(REFETCH_INTERVAL_S)
    assert issuer.key(local.kid) is not None


def test_only_asymmetric_signing_keys_are_taken_and_keys_only_from_where_discovery_may_point(tmp_path, local):
    documents = {"discovery": {"issuer": "https://i", "jwks_uri": "https://i/keys"},
                 "https://i/keys": {"keys": [{"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},
                                             {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}]}}
    clock = ManualClock()
    issuer = Issuer("discovery", fetch=lambda url: documents[url], clock=clock)
    assert issuer.key("shared") is None and issuer.keys == {}
    clock.advance(REFETCH_INTERVAL_S)
    assert issuer.key("enc") is None and issuer.keys == {}
    documents["https://remote/discovery"] = {"issuer": "https://i", "jwks_uri": "file:///etc/passwd"}
    with pytest.raises(BackendUnavailable, match="points at keys"):
        Issuer("https://remote/discovery", fetch=lambda url: documents[url], clock=ManualClock()).key("x")


@pytest.mark.parametrize("discovery,keys,problem", [
    ({"jwks_uri": "JWKS"}, {"keys": 5}, "no list of keys"),           # TypeError: 'int' object is not iterable
    ({"jwks_uri": "JWKS"}, {"keys": True}, "no list of keys"),
    ({"jwks_uri": "JWKS"}, {"keys": {"kty": "RSA"}}, "no list of keys"),  # a key alone, not in a list
    ({"jwks_uri": "http://[::1/keys"}, {"keys": []}, "points at keys"),   # ValueError: Invalid IPv6 URL
    ({"jwks_uri": "https://\ud800/keys"}, {"keys": []}, "unreachable: InvalidURL"),  # httpx's, no HTTPError
])
def test_issuer_documents_of_the_wrong_shape_are_the_issuers_failure_not_a_crash(tmp_path, discovery, keys, problem):
    """Read from real files as a local issuer's are: before, these raised TypeError or ValueError out of the event's
    authentication (a 500 with a traceback); an issuer answering nonsense is unavailable (503) like one down."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys))
    found = tmp_path / "openid-configuration.json"
    found.write_text(json.dumps({"issuer": "https://i", "jwks_uri": jwks.as_uri(), **discovery}).replace(
        '"JWKS"', json.dumps(jwks.as_uri())))
    with pytest.raises(BackendUnavailable, match=problem):
        Issuer(found.as_uri(), clock=ManualClock()).key("k")


def test_a_published_key_pyjwt_cannot_take_is_left_out_and_the_others_kept(tmp_path, local):
    """PyJWK raised NotImplementedError for a key naming the algorithm "none" and TypeError for one naming a list of
    them, out of the whole refetch (a 500 with a traceback for every event); such a key is left out as a curve this
    build does not verify is."""
    published = json.loads((local.folder / "jwks.json").read_text())["keys"]
    odd = [{**published[0], "kid": "none", "alg": "none"}, {**published[0], "kid": "list", "alg": ["RS256"]}]
    (local.folder / "jwks.json").write_text(json.dumps({"keys": [*odd, *published]}))
    issuer = Issuer(local.discovery_url, clock=ManualClock())
    assert issuer.key(local.kid) is not None and set(issuer.keys) == {local.kid}
    assert verify(token(local), issuer, audience("ns", "index"), "ns")["sub"] == subject("ns", "t")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "bearer x.y"])
def test_a_missing_or_malformed_authorization_is_refused(local, header):
    with pytest.raises(Unauthorized):
        verify(header, Issuer(local.discovery_url, clock=ManualClock()), audience("ns", "index"), "ns")


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers"])
def test_an_issuer_that_trickles_its_answer_is_given_up_at_the_deadline(path):
    from tests.support.fault_server import FaultServer

    # a byte every 50 ms, for good: each read is well within its timeout, so only a whole-fetch deadline ends it
    server = FaultServer()
    try:
        with pytest.raises(BackendUnavailable, match=r"did not answer in full within the 0\.5 s deadline"):
            fetch_json(f"{server.url}{path}", deadline_s=0.5)
    finally:
        server.close()
    assert len(server.hits[path]) == 1


def test_an_issuer_document_past_the_cap_is_not_read_further(tmp_path):
    from affiliate_matrix.events.identity import MAX_DOCUMENT
    from tests.support.fault_server import FaultServer

    server = FaultServer()
    try:
        with pytest.raises(BackendUnavailable, match=f"larger than the {MAX_DOCUMENT}-byte cap"):
            fetch_json(f"{server.url}/endless")
        assert server.endless_done.wait(timeout=60)  # the server stops once the client hangs up
    finally:
        server.close()
    # the cap plus what the two sockets' buffers held when the client hung up; reading it all was 256 MB
    assert server.endless_sent < 32 * 1024 * 1024
    oversized = tmp_path / "openid-configuration"
    oversized.write_bytes(b" " * (MAX_DOCUMENT + 1))
    with pytest.raises(BackendUnavailable, match=f"larger than the {MAX_DOCUMENT}-byte cap"):
        fetch_json(oversized.as_uri())


@pytest.mark.parametrize("path,problem", [("/dense-bomb", "larger than the 1048576-byte cap"),
                                          ("/double-bomb", "cannot be decoded: coded more than once")])
def test_an_issuer_answering_a_gzip_bomb_is_refused_without_expanding_it(path, problem):
    """Before, each read was decompressed whole (64 MB from 64 KB; gzip of gzip, 64 MB from 300 bytes)."""
    import tracemalloc

    from tests.support.fault_server import FaultServer, bombs

    bombs()  # made before measuring: the server's own copy is not the client's memory
    server = FaultServer()
    tracemalloc.start()
    try:
        with pytest.raises(BackendUnavailable, match=problem):
            fetch_json(f"{server.url}{path}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        server.close()
    assert peak < 8 * 1024 * 1024, f"{peak} bytes held for a 1 MB cap"


def test_a_refetch_for_a_made_up_key_id_does_not_hold_up_tokens_with_a_known_key(local):
    """Anyone can send a token naming a made-up kid (the triggers function's routes are public); the refetch it
    causes waits on the issuer, and before, every delivery with a known key waited behind it on the lock."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    clock, fetching, release = ManualClock(), threading.Event(), threading.Event()

    def slow_after_the_first(url):
        if issuer.fetches > 1:  # the refetch: hold it until the test has asked for the known key
            fetching.set()
            release.wait(timeout=30)
        return fetch_json(url)

    issuer = Issuer(local.discovery_url, fetch=slow_after_the_first, clock=clock)
    assert issuer.key(local.kid) is not None
    clock.advance(REFETCH_INTERVAL_S)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made_up = pool.submit(issuer.key, "made-up")
        assert fetching.wait(timeout=30)
        try:
            assert pool.submit(issuer.key, local.kid).result(timeout=30) is not None  # at once, not after the refetch
        finally:
            release.set()
        assert made_up.result() is None


# knative/pkg kmeta/names_test.go TestChildName (commit 4fd6eb8652b7d2f15fbba7696524222ded032ca4), verbatim.
@pytest.mark.parametrize("parent,suffix,name", [
    ("asdf", "-deployment", "asdf-deployment"),
    ("f" * 63, "-deployment", "ffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-deployment"),
    ("f" * 63, "-deploy", "ffffffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-deploy"),
    ("f" * 63, "f" * 63, "fffffffffffffffffffffffffffffff0502661254f13c89973cb3a83e0cbec0"),
    ("a", "f" * 63, "ab5cfd486935decbc0d305799f4ce4414ffffffffffffffffffffffffffffff"),
    ("b" * 32, "f" * 32, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb329c7c81b9ab3ba71aa139066aa5625d"),
    ("aaaa", "b---a" * 20, "aaaa7a3f7966594e3f0849720eced8212c18b---ab---ab---ab---ab---ab"),
    ("a" * 17, "a.-.-.-.-.-.-.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaa1eb10dc911444f8434af83b7225442da"),
])
def test_child_names_are_knatives(parent, suffix, name):
    assert child_name(parent, suffix) == name


# knative/eventing pkg/auth/serviceaccount_test.go TestGetOIDCServiceAccountNameForResource (the Broker's cases,
# commit 10e1cf784180c631b057e22a923a606d677bfe39), then the two kinds that send our events.
@pytest.mark.parametrize("group_kind,name,account", [
    (("group", "kind"), "name", "name-oidc-group-kind"),
    (("eventing.knative.dev", "Broker"), "my-Broker", "my-broker-oidc-eventing.knative.dev-broker"),
    (("eventing.knative.dev", "Broker"), "my-loooooooooooooooooooooooooooooooooooooog-Broker",
     "my-looooooooooooooooooooooooooo2dfc2a3825b8d82077b0f25518b36884"),
    (TRIGGER, "raw-batch-to-index", "raw-batch-to-index-oidc-eventing.knative.dev-trigger"),
    (PINGSOURCE, "verify-daily", "verify-daily-oidc-sources.knative.dev-pingsource"),
])
def test_a_resources_sender_is_the_service_account_knative_makes_for_it(group_kind, name, account):
    assert oidc_service_account(group_kind, name) == account


def test_a_long_trigger_name_gets_knatives_hashed_service_account_in_the_plan(tmp_path):
    """Past 63 characters Knative keeps 31 of the name and an MD5 of name and suffix (the suffix's Kind not
    yet lowercased): the plan's route carries that name, and only a token for it passes."""
    import hashlib

    from affiliate_matrix.localrun.plan import read_plan

    name = "action-rebuild-the-whole-index-from-every-stored-batch"  # 54 characters
    (tmp_path / "triggers.yaml").write_text(f"""
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: {name}}}
spec:
  broker: default
  filter: {{attributes: {{type: t.rebuild}}}}
  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: scrape}}}}
""")
    (route,) = read_plan(tmp_path).routes
    expected = name[:31] + hashlib.md5(f"{name}-oidc-eventing.knative.dev-Trigger".encode()).hexdigest()
    assert route.sender == expected and len(route.sender) == 63
    assert read_plan(tmp_path).senders("scrape", {"type": "t.rebuild"}) == {expected}


def test_a_token_living_longer_than_the_cap_is_refused_though_unexpired(local):
    import time

    issuer = Issuer(local.discovery_url)
    knatives = local.token(audience("ns", "index"), subject("ns", "t"), lifetime_s=3600)  # what Knative requests
    assert verify(f"Bearer {knatives}", issuer, audience("ns", "index"), "ns")["sub"] == subject("ns", "t")
    for lifetime in (MAX_TOKEN_LIFETIME_S + 1, 365 * 86400):
        long_lived = local.token(audience("ns", "index"), subject("ns", "t"), lifetime_s=lifetime)
        with pytest.raises(Unauthorized, match=f"lives {lifetime} s, longer than the {MAX_TOKEN_LIFETIME_S} s"):
            verify(f"Bearer {long_lived}", issuer, audience("ns", "index"), "ns")
    now = int(time.time())  # a token's own validity window is wall-clock time by definition
    backdated = local.sign({"iss": local.name, "aud": [audience("ns", "index")], "sub": subject("ns", "t"),
                            "iat": now - 86400, "exp": now + 600})  # issued a day ago, ten minutes left
    with pytest.raises(Unauthorized, match="longer than"):
        verify(f"Bearer {backdated}", issuer, audience("ns", "index"), "ns")


@pytest.mark.parametrize("aud, taken", [
    (lambda ours: ours, True),
    (lambda ours: [ours], True),
    (lambda ours: [ours, audience("ns", "web")], False),
    (lambda ours: ["serving.knative.dev/service/other/thing", ours], False),
], ids=["text", "list-of-ours", "ours-and-another", "another-and-ours"])
def test_a_token_for_other_audiences_besides_ours_is_refused(local, aud, taken):
    """RFC 7519 lets a token name several audiences, and PyJWT takes one whose list holds ours; but every token Knative,
    the manifests and amx up make names one, and one made for several services is one another of them could replay
    to us. It was taken."""
    import time

    ours, now = audience("ns", "index"), int(time.time())  # a token's own validity window is wall-clock time
    signed = local.sign({"iss": local.name, "aud": aud(ours), "sub": subject("ns", "t"), "iat": now, "exp": now + 600})
    if taken:
        assert verify(f"Bearer {signed}", Issuer(local.discovery_url), ours, "ns")["sub"] == subject("ns", "t")
    else:
        with pytest.raises(Unauthorized, match=f"is for 2 audiences: a sender's token is for {ours} alone"):
            verify(f"Bearer {signed}", Issuer(local.discovery_url), ours, "ns")
