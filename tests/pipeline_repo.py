"""Run the real DVC pipeline in a throw-away copy of the project: a temporary git repository holding the
project's files, with params overridden by dotted key. Reused by every end-to-end test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from glyphgen.io import ImageSet, load_image_set

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The official KMNIST files: ../shared/kmnist beside the repository (as CI provides it), or GLYPHGEN_KMNIST_MIRROR
# (a folder). Tests that need them skip without them (tiny_models.kmnist_slice, conftest's kmnist_mirror).
KMNIST_MIRROR = Path(os.environ.get("GLYPHGEN_KMNIST_MIRROR") or PROJECT_ROOT.parent / "shared" / "kmnist")


def project_files(root: Path = PROJECT_ROOT) -> list[str]:
    """Tracked files plus new ones git would track (so uncommitted work is tested too)."""
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                             cwd=root, check=True, capture_output=True, text=True).stdout
    return [name for name in listing.split("\0") if name and (root / name).is_file()]


class PipelineRepo:
    """A fresh git + DVC repository in `path` holding a copy of the project."""

    def __init__(self, path: Path, source: Path = PROJECT_ROOT) -> None:
        self.path = path
        for name in project_files(source):
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)
        self.git("init", "-q", "--initial-branch=main")
        self.git("add", "-A")
        self.git("-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "project copy")

    @classmethod
    def clone_of(cls, origin: "PipelineRepo", path: Path) -> "PipelineRepo":
        """A `git clone` of origin: its commits and none of its DVC outputs, as a teammate or a CI job gets it.
        Beside origin, it shares origin's DVC remote (the local folder the config names, relative to the clone)."""
        subprocess.run(["git", "clone", "-q", str(origin.path), str(path)], check=True, capture_output=True)
        clone = cls.__new__(cls)
        clone.path = path
        return clone

    def commit(self, message: str) -> str:
        """Commit every change; return the commit's hash."""
        self.git("add", "-A")
        self.git("-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message)
        return self.git_output("rev-parse", "HEAD").strip()

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True)

    def git_output(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, check=True, capture_output=True, text=True).stdout

    def set_params(self, overrides: dict[str, Any]) -> None:
        """Set params.yaml values by dotted key, e.g. {"augment_glyphs.n_samples": 100}."""
        params_file = self.path / "params.yaml"
        params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        for dotted, value in overrides.items():
            *parents, last = dotted.split(".")
            node = params
            for key in parents:
                node = node.setdefault(key, {})
            node[last] = value
        params_file.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.path / "src")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # `python` in dvc.yaml
        env["GLYPHGEN_KMNIST_MIRROR"] = str(KMNIST_MIRROR)
        return env

    def dvc(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=self.path, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def shell(self, command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """A command line as a user types it (a documented one, say), run by bash in the repository."""
        # BROWSER: `dvc plots diff --open` opens the page with it; `true` stands in for a browser.
        return subprocess.run(["bash", "-c", command], cwd=self.path, env={**self.env(), "BROWSER": "true"},
                              capture_output=True, text=True, timeout=timeout)

    def repro(self, *targets: str) -> subprocess.CompletedProcess:
        return self.dvc("repro", *targets)

    @staticmethod
    def stages_run(process: subprocess.CompletedProcess) -> list[str]:
        """Names of the stages a `dvc repro` actually ran, from its log."""
        return [line.split("'")[1] for line in process.stdout.splitlines() if line.startswith("Running stage '")]

    def status(self) -> dict[str, Any]:
        """`dvc status` as {stage: what changed}; empty when every stage is up to date."""
        process = self.dvc("status", "--json")
        assert process.returncode == 0, process.stderr
        return json.loads(process.stdout)

    def locked_outs(self, stage: str) -> dict[str, str]:
        """The output hashes dvc.lock records for `stage`, by path."""
        lock = yaml.safe_load((self.path / "dvc.lock").read_text(encoding="utf-8"))
        return {out["path"]: out["md5"] for out in lock["stages"][stage]["outs"]}

    def append(self, relative: str, text: str) -> None:
        with open(self.path / relative, "a", encoding="utf-8") as handle:
            handle.write(text)

    def image_set(self, relative: str) -> ImageSet:
        return load_image_set(self.path / relative)

    def metrics(self, relative: str) -> dict[str, Any]:
        return json.loads((self.path / relative).read_text(encoding="utf-8"))


# Run as `python -c`: record every file or folder the stage creates or opens for writing (Python's audit events),
# so a test can tell a stage that failed before writing anything from one that cleaned up after itself.
RECORD_WRITES = """
import atexit, os, runpy, sys
written = []
def record(event, args):
    writes = args[2] & (os.O_WRONLY | os.O_RDWR) if event == "open" else event == "os.mkdir"
    if writes and isinstance(args[0], (str, os.PathLike)):
        written.append(os.path.relpath(os.fspath(args[0])))
atexit.register(lambda: open(os.environ["WRITES_LOG"], "w").write("\\n".join(written)))
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.addaudithook(record)
runpy.run_path(script, run_name="__main__")
"""


def run_stage_recording_writes(workdir: Path, stage: str, params: dict[str, Any],
                               *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run stages/<stage>.py from the project in `workdir` with its own params.yaml (no DVC, no git); return the
    process and the paths inside `workdir` that the stage wrote to, in order."""
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    log = workdir.parent / f"{workdir.name}.writes"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "WRITES_LOG": str(log)}
    process = subprocess.run([sys.executable, "-c", RECORD_WRITES, str(PROJECT_ROOT / "stages" / f"{stage}.py"),
                              *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    return process, [path for path in log.read_text().splitlines() if not path.startswith("..")]


def run_stage_script(workdir: Path, stage: str, params: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    return run_stage_recording_writes(workdir, stage, params, *args)[0]
