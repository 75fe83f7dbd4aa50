"""The Knative manifests without a cluster: every overlay rendered by kustomize, core resources
validated strictly against the Kubernetes schemas (kubernetes-validate), Knative resources against
the CRD schemas in ../shared/schemas/knative/ (and EventPolicy's, `task setup:knative`), and the wiring checked: every function has a
Service, every cron a PingSource, every event type a Trigger, every reference a target."""

import re
import shutil

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.support.manifests import OVERLAYS, crd_files, render
from tests.support.processes import ROOT

KUBERNETES = "1.32.0"
CRONS = {"scrape", "sync", "discover", "triggers", "keys", "budget", "verify"}  # functions that run on a schedule
PUBLISH_NOTHING = {"programs", "web"}  # HTTP only: no Broker token
EVENT_ONLY = {"index", "keys", "scrape", "sync", "verify"}  # no HTTP API: their route is handlers.events.health


def crd_schemas() -> dict[tuple[str, str], dict]:
    schemas = {}
    for path in crd_files():
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            for version in crd["spec"]["versions"]:
                api = f"{crd['spec']['group']}/{version['name']}"
                schemas[(api, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return schemas


def problems(docs: list[dict]) -> list[str]:
    """Everything wrong with a rendered overlay, in words."""
    found, knative = [], crd_schemas()
    for doc in docs:
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key in knative:
            validator = jsonschema.Draft7Validator(knative[key])
            found += [f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
            found += [f"{where}: {p}" for p in unknown_fields(doc, knative[key])]
        else:
            try:
                kubernetes_validate.validate(doc, KUBERNETES, strict=True)
            except kubernetes_validate.ValidationError as exc:
                found.append(f"{where}: {'/'.join(map(str, exc.path))}: {exc.message}")
    return found + wiring(docs)


def unknown_fields(value, schema: dict, path: str = "") -> list[str]:
    """Strictness the CRD schemas leave to the API server: a field the schema does not declare."""
    if schema.get("x-kubernetes-preserve-unknown-fields") or not isinstance(value, dict | list):
        return []
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in unknown_fields(item, schema.get("items", {}), f"{path}/{i}")]
    properties = schema.get("properties")
    if properties is None:
        extra = schema.get("additionalProperties")
        return [p for k, v in value.items() for p in unknown_fields(v, extra, f"{path}/{k}")] if isinstance(extra, dict) else []
    out = []
    for key, item in value.items():
        if key not in properties:
            if not (path == "" and key in ("apiVersion", "kind", "metadata", "status")):
                out.append(f"{path}/{key}: not a field of this resource")
            continue
        out += unknown_fields(item, properties[key], f"{path}/{key}")
    return out


def wiring(docs: list[dict]) -> list[str]:
    kinds = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    services = {n for n, d in kinds.get("Service", {}).items() if d["apiVersion"].startswith("serving.knative.dev")}
    found = []
    functions = {p.name for p in (ROOT / "functions").iterdir() if (p / "main.py").exists()}
    found += [f"functions/{f} has no Knative Service" for f in sorted(functions - services)]
    found += [f"Service {s} has no functions/{s}" for s in sorted(services - functions)]
    pinged = {d["spec"]["sink"]["ref"]["name"] for d in kinds.get("PingSource", {}).values()}
    found += [f"the {c} cron has no PingSource" for c in sorted(CRONS - pinged)]
    for kind in ("PingSource", "Trigger"):
        for name, doc in kinds.get(kind, {}).items():
            ref = doc["spec"]["sink" if kind == "PingSource" else "subscriber"]["ref"]["name"]
            if ref not in services:
                found.append(f"{kind}/{name} points at {ref}, which is not a Service")
    for name, doc in kinds.get("Service", {}).items():
        account = doc["spec"]["template"]["spec"].get("serviceAccountName")
        if account not in kinds.get("ServiceAccount", {}):
            found.append(f"Service/{name} runs as {account}, which is not a ServiceAccount")
        container = doc["spec"]["template"]["spec"]["containers"][0]
        if not container.get("resources", {}).get("limits") or "readinessProbe" not in container:
            found.append(f"Service/{name} lacks resource limits or a readiness probe")
        source = next((e["value"] for e in container.get("env", []) if e["name"] == "FUNCTION_SOURCE"), "")
        if source != f"functions/{name}/main.py":
            found.append(f"Service/{name} runs {source!r}")
    routed = {d["spec"]["filter"]["attributes"]["type"] for d in kinds.get("Trigger", {}).values()}
    found += [f"event type {t} has no Trigger" for t in sorted(published_types() - routed)]
    to_rules = {d["spec"]["filter"]["attributes"]["type"] for d in kinds.get("Trigger", {}).values()
                if d["spec"]["subscriber"]["ref"]["name"] == "triggers"}
    found += [f"rules on {t} never fire: no Trigger sends it to triggers" for t in rule_events() - to_rules]
    return found + event_identity(kinds, services) + redelivery(kinds) + dead_letters(kinds)


def brokers_of(kinds: dict) -> dict:
    return next(iter(kinds.get("Broker", {}).values()), {"spec": {}})


def dead_letters(kinds: dict) -> list[str]:
    """Every Trigger parks what it cannot deliver: the delivery Knative takes for it (its own whole, else the Broker's:
    trigger_delivery) names a dead-letter sink. Else the Broker's channel sends its dead letters to the Broker's sink
    as itself, not as the Trigger, and the sink refuses them (handlers/events.py, dead_letter_senders)."""
    from affiliate_matrix.localrun.plan import trigger_delivery

    return [f"Trigger/{name} parks no dead letters: its delivery names no deadLetterSink, and Knative takes none of "
            f"the Broker's for a Trigger with a delivery of its own"
            for name, doc in kinds.get("Trigger", {}).items()
            if "deadLetterSink" not in trigger_delivery(doc, brokers_of(kinds))]


def redelivery(kinds: dict) -> list[str]:
    """Every Trigger waits for its function as long as the function may run, so no event is delivered again while its
    first delivery works (the second would find it claimed and answer 409); and it retries for longer than an
    event's claim stands, so a delivery killed outright is retried once its claim lapses, not parked."""
    from affiliate_matrix.handlers.events import CLAIM_LEASE
    from affiliate_matrix.localrun.plan import _seconds, trigger_delivery

    found = []
    for name, doc in kinds.get("Trigger", {}).items():
        delivery = trigger_delivery(doc, brokers_of(kinds))
        service = kinds.get("Service", {}).get(doc["spec"]["subscriber"]["ref"]["name"])
        if service is None:
            continue  # a Trigger to no Service: `wiring` says so
        runs = service["spec"]["template"]["spec"]["timeoutSeconds"]
        if "timeout" not in delivery or _seconds(delivery["timeout"]) < runs:
            found.append(f"Trigger/{name} waits {delivery.get('timeout', 'no timeout')} for a function that may run {runs} s")
        delay, retries = _seconds(delivery.get("backoffDelay", "PT0S")), int(delivery.get("retry", 0))
        retried = delay * (2 ** retries - 1) if delivery.get("backoffPolicy") == "exponential" else \
            delay * retries * (retries + 1) / 2
        if retried < CLAIM_LEASE.total_seconds():
            found.append(f"Trigger/{name} retries for {retried:.0f} s, less than an event's claim stands "
                         f"({CLAIM_LEASE.total_seconds():.0f} s)")
    return found


def event_identity(kinds: dict, services: set[str]) -> list[str]:
    """Every event sender names its target's audience as Knative names a Service's (else it sends no
    token and the function refuses the event), in this overlay's namespace, which the functions are
    told; event-only functions are not reachable from outside the cluster."""
    from affiliate_matrix.events.identity import audience
    from affiliate_matrix.localrun.plan import trigger_delivery

    (namespace,) = kinds.get("Namespace", {None: None})
    found = []
    deliveries = {n: trigger_delivery(d, brokers_of(kinds)) for n, d in kinds.get("Trigger", {}).items()}
    senders = [(f"Trigger/{n}", d["spec"]["subscriber"]) for n, d in kinds.get("Trigger", {}).items()] + \
              [(f"Trigger/{n} dead letters", d["deadLetterSink"]) for n, d in deliveries.items() if "deadLetterSink" in d] + \
              [(f"PingSource/{n}", d["spec"]["sink"]) for n, d in kinds.get("PingSource", {}).items()] + \
              [(f"Broker/{n} dead letters", d["spec"]["delivery"]["deadLetterSink"]) for n, d in
               kinds.get("Broker", {}).items()]
    for where, target in senders:
        if target.get("audience") != audience(namespace, target["ref"]["name"]):
            found.append(f"{where} sends to {target['ref']['name']} with audience {target.get('audience')!r}")
    settings = next((d["data"] for n, d in kinds.get("ConfigMap", {}).items() if n.startswith("amx-settings")), {})
    if settings.get("AMX_NAMESPACE") != namespace:
        found.append(f"amx-settings has AMX_NAMESPACE={settings.get('AMX_NAMESPACE')!r} in namespace {namespace}")
    if not settings.get("AMX_EVENTS_OIDC_DISCOVERY_URL"):
        found.append("amx-settings sets no AMX_EVENTS_OIDC_DISCOVERY_URL: every event would be refused")
    for name in sorted(services):
        doc = kinds["Service"][name]
        local = doc["metadata"].get("labels", {}).get("networking.knative.dev/visibility") == "cluster-local"
        if local != (name in EVENT_ONLY):
            found.append(f"Service/{name} is {'cluster-local' if local else 'public'}")
        broker_audiences = [source["serviceAccountToken"].get("audience")
                            for volume in doc["spec"]["template"]["spec"].get("volumes", []) if volume["name"] != "vault-token"
                            for source in volume.get("projected", {}).get("sources", []) if "serviceAccountToken" in source]
        wanted = [] if name in PUBLISH_NOTHING else [f"eventing.knative.dev/broker/{namespace}/default"]
        if broker_audiences != wanted:
            found.append(f"Service/{name} presents Broker token(s) {broker_audiences}, not {wanted}")
    return found


def published_types() -> set[str]:
    """Every event type the code publishes: the constants in events/ and each rule action."""
    from affiliate_matrix import events
    from affiliate_matrix.rules.model import REQUIRED_PARAMS

    constants = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str) and
                 re.match(r"^dev\.affiliatematrix\.[a-z.]+[a-z]$", v)}
    return constants | {events.ACTION_PREFIX + kind for kind in REQUIRED_PARAMS}


def rule_events() -> set[str]:
    from affiliate_matrix.rules.model import EVENT_PREFIX, EVENT_TRIGGERS

    return {EVENT_PREFIX + short for short in EVENT_TRIGGERS}


def test_every_event_a_rule_can_name_is_sent_to_the_triggers_function():
    # raw.batch.stored was routed to the index only: a rule on it was taken, stored, and never evaluated (locally
    # too: `amx up` routes by these manifests, and the triggers function takes only the types routed to it).
    from affiliate_matrix.localrun.plan import read_plan

    plan = read_plan(ROOT / "manifests" / "base")
    assert sorted(t for t in rule_events() if not plan.senders("triggers", {"type": t})) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_validates(overlay):
    docs = render(ROOT / "manifests" / "overlays" / overlay)
    assert {d["kind"] for d in docs} >= {"Namespace", "ServiceAccount", "ConfigMap", "Service", "Broker", "Trigger",
                                         "PingSource"}
    assert problems(docs) == []


def test_overlays_differ_where_they_should():
    dev, prod = (render(ROOT / "manifests" / "overlays" / o) for o in ("dev", "prod"))

    def service(docs, name):
        return next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == name)

    def scale(doc, bound):
        return doc["spec"]["template"]["metadata"]["annotations"][f"autoscaling.knative.dev/{bound}-scale"]

    assert scale(service(prod, "programs"), "min") == "1" and scale(service(dev, "programs"), "min") == "0"
    assert {scale(d, "max") for d in dev if d["kind"] == "Service"} == {"2"}
    assert {d["metadata"]["namespace"] for d in dev if "namespace" in d["metadata"]} == {"affiliate-matrix-dev"}


def test_each_overlay_runs_the_image_readme_names():
    """README's overlays table: dev runs `:dev`, staging `:staging`, prod `:0.1.0`. The overlays renamed the base's
    image by its placeholder name, which the base had already renamed to the registry's: dev and staging ran 0.1.0."""
    header, row = (re.search(rf"^\| {first} \|.*", (ROOT / "README.md").read_text(), re.MULTILINE).group()
                   for first in (r"\| dev", "image"))
    tags = dict(zip(header.strip("| ").split(" | "), re.findall(r"`:([^`]+)`", row)))
    assert sorted(tags) == OVERLAYS
    for overlay, tag in tags.items():
        images = {container["image"] for doc in render(ROOT / "manifests" / "overlays" / overlay)
                  if doc["kind"] == "Service" and "serving.knative.dev" in doc["apiVersion"]
                  for container in doc["spec"]["template"]["spec"]["containers"]}
        assert images == {f"ghcr.io/affiliate-matrix/functions:{tag}"}, overlay


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_deploy_pins_every_function_to_the_digest_pushed_and_changes_nothing_else(overlay):
    """`./task deploy` applies the overlay through infra/image/pinned.sh: a tag pushed again rolls nothing out on
    Knative, which resolved it once per revision, so every Service runs the digest pushed; the rest is the overlay's."""
    import subprocess

    digest = "sha256:" + "0123456789abcdef" * 4
    pinned = subprocess.run([ROOT / "infra" / "image" / "pinned.sh", overlay, digest], capture_output=True, text=True,
                            timeout=120, check=True).stdout
    def images(docs) -> set[str]:
        return {container["image"] for doc in docs if doc["kind"] == "Service" and "serving.knative" in doc["apiVersion"]
                for container in doc["spec"]["template"]["spec"]["containers"]}

    docs, unpinned = list(yaml.safe_load_all(pinned)), render(ROOT / "manifests" / "overlays" / overlay)
    assert images(docs) == {f"ghcr.io/affiliate-matrix/functions@{digest}"}
    (tagged,) = images(unpinned)
    assert yaml.safe_dump_all(docs).replace(f"functions@{digest}", tagged.rpartition("/")[2]) == \
        yaml.safe_dump_all(unpinned)


@pytest.mark.parametrize("args,said", [(["dev", "latest"], "'latest' is not an image digest"),
                                       (["dev", "sha256:abc"], "'sha256:abc' is not an image digest"),
                                       (["../base", "sha256:" + "0" * 64], "no overlay '../base'"),
                                       (["dev"], "usage: pinned.sh OVERLAY DIGEST"), ([], "usage: pinned.sh")])
def test_a_deploy_refuses_what_is_no_digest_or_no_overlay(args, said):
    import subprocess

    result = subprocess.run([ROOT / "infra" / "image" / "pinned.sh", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and said in result.stderr and result.stdout == ""


def test_a_deploy_without_kustomize_installed_says_what_installs_it(tmp_path):
    """Run by hand, as README offers, before `./task setup:kustomize`: it ended on bash's "No such file or directory"
    (exit 127) for a path inside .tools."""
    import shutil
    import subprocess

    (tmp_path / "infra" / "image").mkdir(parents=True)
    shutil.copy(ROOT / "infra" / "image" / "pinned.sh", tmp_path / "infra" / "image" / "pinned.sh")
    shutil.copytree(ROOT / "manifests" / "overlays" / "dev", tmp_path / "manifests" / "overlays" / "dev")
    result = subprocess.run([tmp_path / "infra" / "image" / "pinned.sh", "dev", "sha256:" + "0" * 64],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "pinned.sh: no kustomize at .tools/bin/kustomize: ./task setup:kustomize installs it\n"


@pytest.mark.parametrize("breakage,expected", [
    (lambda s: s.replace("containerConcurrency: 1", 'containerConcurrency: "one"', 1), "containerConcurrency"),
    (lambda s: s.replace("timeoutSeconds:", "timeoutSecond:", 1), "timeoutSecond: not a field"),
    (lambda s: s.replace("serviceAccountName: fn-scrape", "serviceAccountName: fn-scraper"), "runs as fn-scraper"),
    (lambda s: s.replace("name: index\n", "name: indexer\n", 1), "functions/index has no Knative Service"),
    (lambda s: s.replace("    networking.knative.dev/visibility: cluster-local", "", 1), "Service/scrape is public"),
])
def test_a_broken_manifest_fails_validation(tmp_path, breakage, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    services = copy / "base" / "services.yaml"
    services.write_text(breakage(services.read_text()))
    found = problems(render(copy / "overlays" / "dev"))
    assert any(expected in p for p in found), found


def test_a_broken_core_resource_fails_validation(tmp_path):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    accounts = copy / "base" / "serviceaccounts.yaml"
    accounts.write_text(accounts.read_text().replace("automountServiceAccountToken: true",
                                                     "automountServiceAccountToken: sometimes", 1))
    assert any("automountServiceAccountToken" in p for p in problems(render(copy / "overlays" / "prod")))


@pytest.mark.parametrize("file,breakage,expected", [
    ("triggers.yaml", lambda s: s.replace("affiliate-matrix/keys", "affiliate-matrix/triggers", 1),
     "Trigger/action-rotate-key-to-keys sends to keys with audience"),
    ("pingsources.yaml", lambda s: s.replace("affiliate-matrix/budget", "affiliate-matrix/programs"),
     "sends to budget with audience 'serving.knative.dev/service/affiliate-matrix-staging/programs'"),
    ("settings.env", lambda s: s.replace("AMX_EVENTS_OIDC_DISCOVERY_URL=", "# "), "every event would be refused"),
    # a Trigger that would deliver an event again while its first delivery still works, or give up before its claim
    # lapses
    ("triggers.yaml", lambda s: s.replace("    timeout: PT900S\n", "", 1), "Trigger/raw-batch-to-index waits no timeout"),
    ("triggers.yaml", lambda s: s.replace("timeout: PT900S", "timeout: PT30S", 1),
     "waits PT30S for a function that may run 900 s"),
    ("triggers.yaml", lambda s: s.replace("retry: 10", "retry: 5", 1), "retries for 62 s, less than an event's claim"),
])
def test_a_broken_event_route_fails_validation(tmp_path, file, breakage, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    path = copy / "base" / file
    path.write_text(breakage(path.read_text()))
    found = problems(render(copy / "overlays" / "staging"))
    assert any(expected in p for p in found), found


def test_a_trigger_that_would_park_no_dead_letters_fails_validation():
    # Each Trigger's delivery of its own (timeout, retries) had no deadLetterSink: Knative took none of the Broker's
    # for it, and its dead letters came to the sink from the Broker's channel, which the sink refuses. (Edited here,
    # rendered: the overlays' replacements refuse to render a Trigger without a deadLetterSink at all.)
    docs = render(ROOT / "manifests" / "overlays" / "staging")
    trigger = next(d for d in docs if d["kind"] == "Trigger" and d["metadata"]["name"] == "key-revoked-to-triggers")
    del trigger["spec"]["delivery"]["deadLetterSink"]
    assert problems(docs) == ["Trigger/key-revoked-to-triggers parks no dead letters: its delivery names no "
                              "deadLetterSink, and Knative takes none of the Broker's for a Trigger with a delivery "
                              "of its own"]
    trigger["spec"]["delivery"]["deadLetterSink"] = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service",
                                                             "name": "triggers"}, "uri": "/dead-letters"}
    assert problems(docs) == ["Trigger/key-revoked-to-triggers dead letters sends to triggers with audience None"]
    del trigger["spec"]["delivery"]  # no delivery of its own: the Broker's, whose sink it is
    assert not any("parks no dead letters" in p for p in problems(docs))


# config-defaults' max-revision-timeout-seconds where the cluster does not set it (knative.dev, "Configuring the Defaults
# ConfigMap"): Knative's webhook refuses a Service whose timeoutSeconds is past it
KNATIVE_MAX_REVISION_TIMEOUT_S = 600
# config-defaults' revision-timeout-seconds where the cluster does not set it: a Service's timeoutSeconds when it sets
# none, and revision-response-start-timeout-seconds when that is not set (knative/serving pkg/apis/config/defaults.go)
KNATIVE_REVISION_TIMEOUT_S = 300


def cluster_config(cluster: list[dict], namespace: str, name: str) -> dict:
    """The data of one of the cluster's Knative ConfigMaps (manifests/cluster), {} when it sets none."""
    return next((d.get("data") or {} for d in cluster if d["kind"] == "ConfigMap"
                 and (d["metadata"]["namespace"], d["metadata"]["name"]) == (namespace, name)), {})


def admitted_timeouts(docs: list[dict], cluster: list[dict]) -> list[str]:
    """What Knative's webhook would refuse of the Services' timeouts on a cluster set up by manifests/cluster: a
    timeoutSeconds past the cluster's maximum. And a response start or idle bound past the Service's own timeout,
    which Knative takes (knative/serving pkg/apis/serving/v1/revision_validation.go checks neither) but never reaches:
    the timeout cuts the request first."""
    defaults = cluster_config(cluster, "knative-serving", "config-defaults")
    most = int(defaults.get("max-revision-timeout-seconds", KNATIVE_MAX_REVISION_TIMEOUT_S))
    found = []
    for doc in docs:
        if doc["kind"] != "Service" or not doc["apiVersion"].startswith("serving.knative.dev"):
            continue
        spec, name = doc["spec"]["template"]["spec"], doc["metadata"]["name"]
        runs = spec.get("timeoutSeconds") or int(defaults.get("revision-timeout-seconds", KNATIVE_REVISION_TIMEOUT_S))
        if runs > most:
            found.append(f"Service/{name} may run {runs} s, past the cluster's max-revision-timeout-seconds ({most} s)")
        found += [f"Service/{name}'s {bound} ({spec[bound]} s) is past its timeoutSeconds ({runs} s)"
                  for bound in ("responseStartTimeoutSeconds", "idleTimeoutSeconds") if spec.get(bound, 0) > runs]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_cluster_admits_every_services_timeouts(overlay):
    cluster = render(ROOT / "manifests" / "cluster")
    assert admitted_timeouts(render(ROOT / "manifests" / "overlays" / overlay), cluster) == []


def response_start_bound(spec: dict, defaults: dict) -> int:
    """The responseStartTimeoutSeconds Knative gives a revision, 0 for none (knative/serving
    pkg/apis/serving/v1/revision_defaults.go): its own, else the cluster's revision-response-start-timeout-seconds
    (by default its revision-timeout-seconds) when that is below the revision's timeoutSeconds."""
    if "responseStartTimeoutSeconds" in spec:
        return spec["responseStartTimeoutSeconds"]
    default = int(defaults.get("revision-timeout-seconds", KNATIVE_REVISION_TIMEOUT_S))
    runs = spec.get("timeoutSeconds") or default
    default = int(defaults.get("revision-response-start-timeout-seconds", default))
    return default if 0 < default < runs else 0


def cut_event_runs(docs: list[dict], cluster: list[dict]) -> list[str]:
    """The functions events are sent to (a Trigger, a PingSource, a dead-letter sink) whose work Knative would cut
    before their timeoutSeconds: an event is answered when its work is done, so the bound on when an answer starts
    (responseStartTimeoutSeconds, as Knative defaults it on a cluster set up by manifests/cluster) bounds the work."""
    from affiliate_matrix.localrun.plan import trigger_delivery

    defaults = cluster_config(cluster, "knative-serving", "config-defaults")
    broker = next((d for d in docs if d["kind"] == "Broker"), {"spec": {}})
    destinations = [d["spec"]["subscriber"] for d in docs if d["kind"] == "Trigger"] + \
        [trigger_delivery(d, broker).get("deadLetterSink", {}) for d in docs if d["kind"] == "Trigger"] + \
        [d["spec"]["sink"] for d in docs if d["kind"] == "PingSource"] + \
        [(broker["spec"].get("delivery") or {}).get("deadLetterSink", {})]
    targets = {d.get("ref", {}).get("name") for d in destinations}
    found = []
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] != "Service" or not doc["apiVersion"].startswith("serving.knative.dev") or name not in targets:
            continue
        spec = doc["spec"]["template"]["spec"]
        runs = spec.get("timeoutSeconds") or int(defaults.get("revision-timeout-seconds", KNATIVE_REVISION_TIMEOUT_S))
        start = response_start_bound(spec, defaults)
        if 0 < start < runs:
            whose = "its responseStartTimeoutSeconds" if "responseStartTimeoutSeconds" in spec else "Knative's default"
            found.append(f"Service/{name} takes events that may run {runs} s, but Knative cuts an answer not "
                         f"started within {start} s ({whose})")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_knative_lets_every_event_run_as_long_as_its_function_may(overlay):
    assert cut_event_runs(render(ROOT / "manifests" / "overlays" / overlay), render(ROOT / "manifests" / "cluster")) == []


@pytest.mark.parametrize("check, file, breakage, expected", [
    (admitted_timeouts, "cluster/knative-serving-defaults.yaml",
     lambda s: s.replace('max-revision-timeout-seconds: "900"', ""),
     "Service/scrape may run 900 s, past the cluster's max-revision-timeout-seconds (600 s)"),
    (admitted_timeouts, "base/services.yaml",
     lambda s: s.replace("responseStartTimeoutSeconds: 120", "responseStartTimeoutSeconds: 3000", 1),
     "Service/programs's responseStartTimeoutSeconds (3000 s) is past its timeoutSeconds (600 s)"),
    # Knative's default, revision-timeout-seconds (300 s), cut the batch functions' 900 s runs at 300 s
    (cut_event_runs, "base/services.yaml",
     lambda s: s.replace("      responseStartTimeoutSeconds: 900\n", "", 1),
     "Service/scrape takes events that may run 900 s, but Knative cuts an answer not started within 300 s "
     "(Knative's default)"),
    (cut_event_runs, "base/services.yaml",
     lambda s: s.replace("responseStartTimeoutSeconds: 900  # as scrape's", "responseStartTimeoutSeconds: 60", 1),
     "Service/sync takes events that may run 900 s, but Knative cuts an answer not started within 60 s "
     "(its responseStartTimeoutSeconds)"),
])
def test_a_timeout_knative_would_refuse_or_cut_fails_validation(tmp_path, check, file, breakage, expected):
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    path = copy / file
    path.write_text(breakage(path.read_text()))
    found = check(render(copy / "overlays" / "prod"), render(copy / "cluster"))
    assert expected in found, found


def test_the_cluster_turns_on_knatives_sender_identity():
    features = next(d for d in render(ROOT / "manifests" / "cluster") if d["metadata"]["name"] == "config-features")
    assert (features["kind"], features["metadata"]["namespace"], features["metadata"]["name"]) == \
        ("ConfigMap", "knative-eventing", "config-features")
    assert features["data"]["authentication-oidc"] == "enabled"
    for setting in render(ROOT / "manifests" / "cluster"):
        kubernetes_validate.validate(setting, KUBERNETES, strict=True)
