"""The sources' real payloads, read where they live: `../shared/real-samples/` beside the project
(CI has it there). They are never copied into the project; a checkout elsewhere (a worktree, say)
names the folder with REAL_SAMPLES_DIR. A recorded-sites folder built here only points at them."""

import json
import os
from pathlib import Path

from tests.support.processes import ROOT


def real_sample(*parts: str) -> Path:
    root = Path(os.environ.get("REAL_SAMPLES_DIR") or ROOT.parent / "shared" / "real-samples")
    path = root.joinpath(*parts)
    if not path.is_file():
        raise AssertionError(f"no real sample {path}: they live beside the project, in ../shared/real-samples/ "
                             "(or set REAL_SAMPLES_DIR)")
    return path


def api_site(folder: Path, routes: list[dict]) -> Path:
    """A recorded-sites folder whose routes.json answers with real samples, named by absolute path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "routes.json").write_text(json.dumps(
        [{**route, "file": str(route["file"])} if "file" in route else route for route in routes]))
    return folder
