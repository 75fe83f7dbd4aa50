"""The image without a Docker engine (none runs here): the Dockerfile's shape, and the wheel it
installs carrying every data file the functions read at run time."""

import re
import subprocess
import sys
import zipfile

import pytest

from tests.support.processes import ROOT

DOCKERFILE = (ROOT / "infra" / "image" / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_multi_stage_slim_pinned_and_non_root():
    steps = instructions()
    bases = [arg for op, arg in steps if op == "FROM"]
    assert len(bases) >= 2 and all(re.match(r"python:3\.11\.\d+-slim-bookworm", b) for b in bases)
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM"):]
    users = [arg for op, arg in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert not any(op == "ADD" for op, _ in steps)  # COPY only: no remote fetches at build time
    assert any(op == "COPY" and "--from=build" in arg for op, arg in final)  # only the built venv comes across
    assert ("ENTRYPOINT", '["amx-function"]') in final


def test_the_wheel_carries_the_runtime_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                   check=True, timeout=300)
    (wheel,) = tmp_path.glob("affiliate_matrix-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = [p.relative_to(ROOT / "shared").as_posix() for p in (ROOT / "shared" / "affiliate_matrix").rglob("*")
              if p.is_file() and p.suffix in (".json", ".html", ".md", ".txt", ".rss") and "__pycache__" not in p.parts]
    assert needed and [n for n in needed if n not in names] == []


def test_functions_run_on_the_mimalloc_the_image_installs():
    steps = instructions()
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM"):]
    preload = [arg for op, arg in final if op == "ENV" and "LD_PRELOAD=" in arg]
    library = re.search(r"LD_PRELOAD=(\S+)", preload[-1]).group(1) if preload else None
    assert library and "mimalloc" in library
    installs = [arg for op, arg in final if op == "RUN" and "libmimalloc2.0=" in arg]  # pinned, from Debian
    assert installs and library in installs[0]  # the preloaded path is the one the install links


def test_the_image_carries_the_routing_the_functions_read(tmp_path):
    """AMX_EVENTS_ROUTES in the cluster's settings names the folder the image fills from manifests/base,
    and what is copied there routes exactly as the whole of manifests/base does."""
    import shutil

    from affiliate_matrix.localrun.plan import read_plan

    settings = dict(line.split("=", 1) for line in (ROOT / "manifests/base/settings.env").read_text().split())
    (copy,) = [arg.split() for op, arg in instructions() if op == "COPY" and "manifests/" in arg]
    assert copy[-1].rstrip("/") == settings["AMX_EVENTS_ROUTES"]
    for source in copy[:-1]:
        shutil.copy(ROOT / source, tmp_path)
    shipped, full = read_plan(tmp_path), read_plan(ROOT / "manifests/base")
    assert full.routes and full.pings and full.dead_letter_sink
    assert (shipped.routes, shipped.pings, shipped.dead_letter_sink) == (full.routes, full.pings, full.dead_letter_sink)


def test_no_package_installer_is_left_in_the_image():
    """pip, setuptools and wheel leave the venv in the build stage (after the last install) and the base image's
    Python in the final one: a process that takes over a function cannot install its tools into the writable /tmp."""
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    build, final = steps[:last_from], steps[last_from:]

    def uninstalls(run: str, python: str) -> bool:
        tail = run.rsplit(f"{python} -m pip uninstall", 1)
        return len(tail) == 2 and {"pip", "setuptools", "wheel"} <= set(tail[1].split()) and "pip install" not in tail[1]

    assert any(op == "RUN" and uninstalls(arg, "/opt/venv/bin/python") for op, arg in build), "the venv keeps pip"
    assert any(op == "RUN" and re.search(r"(^|&& )python -m pip uninstall", arg) and uninstalls(arg, "python")
               for op, arg in final), "the base image's Python keeps pip"


def on_a_docker_host(tmp_path, *tasks: list[str]) -> list[str]:
    """Run `./task` targets where `docker` and `kubectl` are stand-ins writing down what they were asked (no Docker
    engine runs here); every call, as asked. `docker inspect` gives the pushed name a digest."""
    import os

    bin_ = tmp_path / "bin"
    bin_.mkdir()
    calls = tmp_path / "calls"
    for tool, answer in (("docker", 'if [ "$1" = inspect ]; then eval "image=\\${$#}"; '
                                    'echo "${image%:*}@sha256:' + "0" * 64 + '"; fi'),
                         ("kubectl", "cat > /dev/null")):
        (bin_ / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n{answer}\n')
        (bin_ / tool).chmod(0o755)
    for task in tasks:
        done = subprocess.run([ROOT / ".venv" / "bin" / "task", *task], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}"})
        assert done.returncode == 0, done.stderr
    return calls.read_text().splitlines()


def test_the_image_an_overlay_is_built_as_is_the_one_its_deploy_pushes(tmp_path):
    """README's runbook ran `./task image -- 0.1.0` (a tag) then `./task deploy -- prod` (an overlay), which pushed
    whatever local image held prod's tag: an old build, had the tag been mistyped or prod's release moved on. The
    image task takes the overlay now, and tags the image the overlay names, read with kustomize as deploy reads it."""
    calls = on_a_docker_host(tmp_path, ["image", "--", "prod"], ["deploy", "--", "prod"])
    (built,) = [call.split(" -t ")[1].split()[0] for call in calls if call.startswith("docker build")]
    (pushed,) = [call.removeprefix("docker push ") for call in calls if call.startswith("docker push")]
    assert built == pushed == "ghcr.io/affiliate-matrix/functions:0.1.0"  # manifests/overlays/prod's newTag
    assert "kubectl apply -f -" in calls


def test_the_image_task_builds_devs_by_default_and_a_tag_given_by_hand_on_the_overlays_image_name(tmp_path):
    calls = on_a_docker_host(tmp_path, ["image"], ["image", "TAG=0.2.0-rc1", "--", "prod"])
    assert [call.split(" -t ")[1].split()[0] for call in calls if call.startswith("docker build")] == [
        "ghcr.io/affiliate-matrix/functions:dev", "ghcr.io/affiliate-matrix/functions:0.2.0-rc1"]


@pytest.mark.parametrize("args,said,code", [(["../base"], "pulled.sh: no overlay '../base'", 2),
                                            ([], "usage: pulled.sh OVERLAY", 2)])
def test_the_image_an_overlay_pulls_is_refused_for_what_is_no_overlay(args, said, code):
    result = subprocess.run([ROOT / "infra" / "image" / "pulled.sh", *args], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == code and said in result.stderr and result.stdout == ""
