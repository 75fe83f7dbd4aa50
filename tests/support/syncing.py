"""Connections synced over real HTTP from the recorded answers (or real samples), each stored batch indexed as the
index function does (a complete run withdrawing what it no longer lists), read back through the programs API."""

import json

from functions_framework import create_app

from affiliate_matrix.auth import create_token
from affiliate_matrix.config import Settings
from affiliate_matrix.connections import Connection, connection_key, created, load_connection, save_connection
from affiliate_matrix.demo import recorded_sites
from affiliate_matrix.events import RAW_BATCH_STORED
from affiliate_matrix.pipeline import ScrapeReport, index_announced, scrape
from affiliate_matrix.runtime import Runtime
from affiliate_matrix.sources import get_source
from tests.support.processes import ROOT
from tests.support.real_samples import api_site, real_sample
from tests.support.recorded_expected import EXPECTED

IMPACT_AUTH = {"Authorization": "Basic SVJ0ZXN0U0lEOnRlc3QtaW1wYWN0LXRva2Vu", "Accept": "application/json"}
CJ_AUTH = {"Authorization": "Bearer test-cj-token"}


class Synced:
    """A data directory the sources are synced into (and indexed on each stored batch), read through the programs
    API."""

    def __init__(self, path):
        self.rt = Runtime("test", Settings(data_dir=path, allow_loopback_fetch=True))
        self.rt.bus.subscribe(RAW_BATCH_STORED, lambda e: index_announced(self.rt, e.data))
        self.auth = {"Authorization": f"Bearer {create_token(self.rt.secrets, 'read')}"}
        self.api = create_app("handle", str(ROOT / "functions" / "programs" / "main.py")).test_client()

    def sync(self, *sources: str, directories=None, failing: bool = False,
             connection: str | None = None) -> list[ScrapeReport]:
        """Each source synced through a connection named as the source (or `connection`, for one source); `failing`:
        runs that fail are expected."""
        reports = []
        with recorded_sites(*sources, directories=directories) as urls:
            for source in sources:
                credentials = EXPECTED[source].get("credentials")
                if credentials:
                    self.rt.secrets.write(f"connections/{source}", credentials)
                connection_id = connection or source  # created, or edited keeping its generation
                generation = load_connection(self.rt.store, connection_id)[0].generation if self.rt.store.head(
                    connection_key(connection_id)) else None
                save_connection(self.rt.store, created(Connection(
                    id=connection_id, source=source, base_url=urls[source], rate_limit_per_s=50,
                    credentials_path=f"connections/{source}" if credentials else None, generation=generation)))
                reports.append(scrape(self.rt, connection or source))
                assert failing or reports[-1].failures == [], reports[-1].failures
        return reports

    def get(self, path: str) -> dict:
        answer = self.api.get(path, headers=self.auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()

    def named(self, name: str) -> dict:
        every = "status=active&status=discovered&status=closed_suspected&status=removed"  # a search lists open ones
        (item,) = [i for i in self.get(f"/programs?limit=100&{every}")["items"] if i["name"] == name]
        return self.get(f"/programs/{item['id']}")

    def listed(self, status: str) -> list[str]:
        return sorted(i["name"] for i in self.get(f"/programs?limit=100&status={status}")["items"])

    def status_changes(self, program_id: str) -> list:
        return [[f["old"], f["new"]] for c in self.get("/changes?limit=100")["items"] if c["program_id"] == program_id
                for f in c["fields"] if f["field"] == "status"]


def impact_real_sample(folder):
    return api_site(folder, [{"path": "/Mediapartners/IRtestSID/Campaigns", "query": {"PageSize": "100"},
                              "file": real_sample("impact", "campaigns.json"), "auth": IMPACT_AUTH}])


def cj_answering(folder, changes: dict[str, dict[str, str] | None], *, failing_page: int | None = None):
    """CJ's recorded answers with some advertisers' fields changed: {advertiser name: {element: text}}; an
    advertiser changed to None is no longer listed (CJ's totals count it out); `failing_page` answers 400."""
    recorded = get_source("cj").recorded_dir()
    folder.mkdir()
    dropped = sum(fields is None for fields in changes.values())
    for page in ("advertisers-1.xml", "advertisers-2.xml"):
        text = (recorded / page).read_text()
        total = int(text.split('total-matched="', 1)[1].split('"', 1)[0])
        text = text.replace(f'total-matched="{total}"', f'total-matched="{total - dropped}"')
        for name, fields in changes.items():
            start = text.find(f"<advertiser-name>{name}</advertiser-name>")
            if start < 0:
                continue
            begin, end = text.rfind("<advertiser>", 0, start), text.find("</advertiser>", start)
            if fields is None:
                returned = int(text.split('records-returned="', 1)[1].split('"', 1)[0])
                text = (text[:begin] + text[end + len("</advertiser>"):]).replace(
                    f'records-returned="{returned}"', f'records-returned="{returned - 1}"')
                continue
            block = text[begin:end]
            for element, value in fields.items():
                old = block[block.index(f"<{element}>"):block.index(f"</{element}>")]
                block = block.replace(old, f"<{element}>{value}")
            text = text[:begin] + block + text[end:]
        (folder / page).write_text(text)
    routes = json.loads((recorded / "routes.json").read_text())
    if failing_page is not None:
        routes[failing_page - 1]["status"] = 400
    (folder / "routes.json").write_text(json.dumps(routes))
    return folder
