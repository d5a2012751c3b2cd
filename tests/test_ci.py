"""Retraining from CI and scaling out, on this machine: the workflows are checked by actionlint and only call the
scripts; the scripts run for real on the tiny pipeline (one data set, one model) in git clones that share one
local DVC remote, as CI jobs and teammates do."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline_repo import PROJECT_ROOT, PipelineRepo
from test_docs import REMOTE_SETUP, RUN_IN_CLONES
from test_pipeline import TINY
from tiny_models import kmnist_slice

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
# The tiny pipeline of test_pipeline.py cut to one data set and one model (the glyph data stages still run, on
# two letters), one thread per stage: the tests below run several pipelines at once.
ONE_RUN = {**TINY, "pipeline.datasets": ["kmnist"], "pipeline.models": ["ae"], "render_glyphs.charset": "AB",
           "augment_glyphs.n_samples": 40, "models.ae.kmnist.epochs": 1, "models.ae.kmnist.train_images": 200,
           "train.threads": 1}
# What a workflow's `run` steps may do besides calling the scripts: set up, activate and publish.
PLUMBING = ("make venv", ". .venv/bin/activate", "cat comparison/report.md", "echo \"stages=", "read -ra overrides",
            "echo \"$NUMBER\" > comparison/pull_request")
# The DVC remote's write keys, and the environment that alone holds them: its deployment-branch rule admits main.
WRITE_KEYS = ("secrets.DVC_AWS_ACCESS_KEY_ID", "secrets.DVC_AWS_SECRET_ACCESS_KEY")
WRITE_ENVIRONMENT = "dvc-write"
ON_MAIN = "github.ref == 'refs/heads/main'"


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint not installed (pip install -e '.[lint]'; see pyproject.toml)")
    return found


def test_the_workflows_pass_actionlint():
    checked = subprocess.run([actionlint(), *map(str, sorted(WORKFLOWS.glob("*.yml")))], capture_output=True,
                             text=True, cwd=PROJECT_ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("workflow, script", [("retrain.yml", "scripts/retrain.sh"),
                                              ("fanout.yml", "scripts/fanout.sh")])
def test_the_workflows_steps_only_set_up_call_the_scripts_and_publish(workflow, script):
    jobs = yaml.safe_load((WORKFLOWS / workflow).read_text(encoding="utf-8"))["jobs"]
    lines = [line.strip() for job in jobs.values() for step in job["steps"] for line in step.get("run", "").splitlines()]
    assert any(line.startswith(script) for line in lines)
    assert [line for line in lines if line and not line.startswith(("scripts/", *PLUMBING))] == []


def workflows() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(WORKFLOWS.glob("*.yml"))}


def triggers(workflow: dict) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on:` key as true
    return {on} if isinstance(on, str) else set(on)


def script_lines(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines()
            if line.strip().startswith("scripts/")]


def test_only_jobs_on_main_get_the_write_keys_and_pull_request_jobs_never_push():
    for name, workflow in workflows().items():
        assert "pull_request_target" not in triggers(workflow), name  # it hands the base's secrets to a PR's run
        assert workflow.get("permissions") == {} and "env" not in workflow, name  # nothing workflow-wide
        for job_name, job in workflow["jobs"].items():
            where = f"{name}: {job_name}"
            assert "permissions" in job and "env" not in job, where  # least privilege, job by job and step by step
            writes = any(key in json.dumps(job) for key in WRITE_KEYS)
            on_main = ON_MAIN in job.get("if", "")
            assert writes == (job.get("environment") == WRITE_ENVIRONMENT), where
            assert not writes or on_main, where
            for step in job["steps"]:  # the keys reach the steps that call the scripts, no other
                if any(key in json.dumps(step) for key in WRITE_KEYS):
                    assert step["run"].strip().splitlines()[-1].startswith("scripts/"), where
            if "pull_request" in triggers(workflow) and not on_main:  # a job that runs a pull request's code
                assert all(line.startswith("scripts/retrain.sh --read-only ") for line in script_lines(job)), where
                assert job["permissions"] == {"contents": "read"}, where
    retrain = workflows()["retrain.yml"]
    assert "pull_request" in triggers(retrain)
    assert any(ON_MAIN not in job.get("if", "") for job in retrain["jobs"].values())  # pull requests are compared


def test_the_comment_workflow_runs_no_code_of_the_pull_request():
    workflow = workflows()["retrain-comment.yml"]
    assert triggers(workflow) == {"workflow_run"}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not [step for step in job["steps"] if "checkout" in step.get("uses", "")]
    assert not any(key in json.dumps(job) for key in WRITE_KEYS)


def test_every_action_is_pinned_by_commit():
    used = [step["uses"] for workflow in workflows().values() for job in workflow["jobs"].values()
            for step in job["steps"] if "uses" in step]
    assert used and [uses for uses in used if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses)] == []


def test_the_scripts_never_trace_their_environment():
    for script in ("scripts/retrain.sh", "scripts/fanout.sh"):
        assert "set -x" not in (PROJECT_ROOT / script).read_text(encoding="utf-8")


def run_script(repo: PipelineRepo, command: str) -> subprocess.CompletedProcess:
    ran = repo.shell(command, timeout=900)
    assert ran.returncode == 0, f"{command}\n{ran.stdout[-4000:]}{ran.stderr[-4000:]}"
    return ran


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """The tiny pipeline committed, run by scripts/retrain.sh (against itself) and pushed to the remote beside it."""
    kmnist_slice(0)  # skips without the KMNIST mirror
    root = tmp_path_factory.mktemp("ci")
    repo = PipelineRepo(root / "base")
    repo.set_params(ONE_RUN)
    repo.commit("tiny params")
    first = run_script(repo, "scripts/retrain.sh HEAD")
    assert "train@kmnist-ae" in repo.stages_run(first)
    repo.commit("base: dvc.lock of the tiny run")
    return root, repo


def metric_row(report: str, path: str, metric: str) -> list[float]:
    """The numbers of `dvc metrics diff --md`'s row for one metric: old, new, change."""
    for line in report.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[:2] == [path, metric]:
            return [float(cell) for cell in cells[2:]]
    raise AssertionError(f"no row for {path} {metric} in\n{report}")


@pytest.mark.slow
def test_a_fresh_clone_pulls_the_trained_models_and_repro_trains_nothing(stored):
    root, base = stored
    teammate = PipelineRepo.clone_of(base, root / "teammate")
    pull, status, repro = RUN_IN_CLONES[:3]
    run_script(teammate, pull)
    assert "up to date" in run_script(teammate, status).stdout.lower()
    assert teammate.status() == {}
    again = run_script(teammate, repro)
    assert teammate.stages_run(again) == []
    assert (teammate.path / "models/kmnist/ae/model.pt").read_bytes() == \
        (base.path / "models/kmnist/ae/model.pt").read_bytes()


@pytest.mark.slow
def test_retrain_compares_a_change_with_its_base_and_a_rerun_pulls_everything_and_trains_nothing(stored):
    root, base = stored
    retrain = RUN_IN_CLONES[3]  # against HEAD~1: the base, one commit back
    change = PipelineRepo.clone_of(base, root / "change")
    change.set_params({"models.ae.kmnist.epochs": 2})
    change.commit("two epochs")
    ran = run_script(change, retrain)
    assert "train@kmnist-ae" in change.stages_run(ran)

    report = (change.path / "comparison/report.md").read_text(encoding="utf-8")
    assert "models.ae.kmnist.epochs" in report  # dvc params diff
    before, after = (repo.metrics("metrics/kmnist/ae.json")["judges"]["strided_cnn"]["fid"] for repo in (base, change))
    assert metric_row(report, "metrics/kmnist/ae.json", "judges.strided_cnn.fid")[:2] == pytest.approx(
        [before, after], abs=1e-4)
    assert "### kmnist" in report and "median rank (mean)" in report  # the report's own leaderboard
    grids = re.findall(r"!\[kmnist/ae (?:before|after)\]\(([^)]+)\)", report)
    assert grids == ["grids/kmnist-ae-base.png", "grids/kmnist-ae-new.png"]
    old, new = ((change.path / "comparison" / grid).read_bytes() for grid in grids)
    assert old == (base.path / "reports/renders/kmnist/ae/samples.png").read_bytes() != new

    rerun = PipelineRepo.clone_of(change, root / "rerun")  # the same commit on a fresh CI machine
    again = run_script(rerun, retrain)
    assert rerun.stages_run(again) == [] and "is cached" in again.stdout
    assert rerun.metrics("metrics/kmnist/ae.json") == change.metrics("metrics/kmnist/ae.json")


def remote_snapshot(root: Path) -> dict[str, str]:
    """Every file of the DVC remote beside the clones in `root`, by path: its MD5 (the folders too, as '')."""
    remote = root / "glyphgen-dvc-storage"
    return {path.relative_to(remote).as_posix(): hashlib.md5(path.read_bytes()).hexdigest() if path.is_file() else ""
            for path in sorted(remote.rglob("*"))}


@pytest.mark.slow
def test_a_pull_request_run_reads_the_remote_compares_and_leaves_the_remote_byte_identical(stored):
    root, base = stored
    before = remote_snapshot(root)
    change = PipelineRepo.clone_of(base, root / "pull_request")
    change.set_params({"models.ae.kmnist.train_images": 100})  # a run no other test makes: one to push, if it did
    change.commit("a pull request's change")
    ran = run_script(change, RUN_IN_CLONES[12])
    ran_stages = change.stages_run(ran)
    assert "train@kmnist-ae" in ran_stages and "split@kmnist" not in ran_stages  # the data sets came from the remote
    report = (change.path / "comparison/report.md").read_text(encoding="utf-8")
    assert "models.ae.kmnist.train_images" in report
    assert metric_row(report, "metrics/kmnist/ae.json", "judges.strided_cnn.fid")[0] == pytest.approx(
        base.metrics("metrics/kmnist/ae.json")["judges"]["strided_cnn"]["fid"], abs=1e-4)  # the base's, from the remote
    assert remote_snapshot(root) == before


@pytest.mark.slow
def test_a_fork_without_access_to_the_remote_still_reproduces_and_compares(stored):
    root, base = stored
    before = remote_snapshot(root)
    fork = PipelineRepo.clone_of(base, root / "fork")
    fork.set_params({"models.ae.kmnist.train_images": 150})
    fork.commit("a fork's change")
    run_script(fork, "dvc remote add --local unreachable /dev/null/remote")  # as a job without credentials sees it
    ran = run_script(fork, "DVC_REMOTE=unreachable scripts/retrain.sh --read-only HEAD~1")
    assert "cannot read the DVC remote" in ran.stderr and "split@kmnist" in fork.stages_run(ran)
    assert "models.ae.kmnist.train_images" in (fork.path / "comparison/report.md").read_text(encoding="utf-8")
    assert remote_snapshot(root) == before


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A copy of the project holding a tracked @file with a bad line, for the refusals below (nothing runs)."""
    repo = PipelineRepo(tmp_path_factory.mktemp("refusals") / "copy")
    (repo.path / "overrides.txt").write_text("# a comment\nmodels.vae.kmnist.epochs=3\nsecret-looking-token\n")
    repo.commit("an @file with a bad line")
    (repo.path / "untracked.txt").write_text("models.vae.kmnist.epochs=3\n")
    return repo


@pytest.mark.parametrize("arguments, error", [
    ("HEAD @overrides.txt", "error: overrides.txt:3: expected key=value or a # comment"),
    ("HEAD @/etc/passwd", "error: @/etc/passwd: expected a file git tracks in this repository"),
    ("HEAD @untracked.txt", "error: @untracked.txt: expected a file git tracks in this repository"),
    ("HEAD epochs", "error: override 'epochs': expected key=value"),
    ("HEAD '*=[vae,gan]'", "error: override '*=[vae,gan]': expected key=value"),
    ("--read-only no-such-revision", "error: BASE_REV: expected a commit of this repository, got 'no-such-revision'"),
    ("--all", "error: BASE_REV: expected a commit of this repository, got '--all'"),
])
def test_retrain_refuses_bad_arguments_in_one_line_before_touching_anything(scratch, arguments, error):
    # Without dvc on PATH: an argument let through fails at once (127) instead of running the pipeline.
    refused = subprocess.run(["bash", "-c", f"scripts/retrain.sh {arguments}"], cwd=scratch.path,
                             env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().startswith(error) and len(refused.stderr.strip().splitlines()) == 1
    assert "secret-looking-token" not in refused.stderr  # an @file's lines are never printed
    assert not (scratch.path / "comparison").exists() and not (scratch.path.parent / "glyphgen-dvc-storage").exists()


def test_fanout_refuses_a_stage_that_is_not_a_train_run(scratch):
    refused = subprocess.run(["bash", "-c", "scripts/fanout.sh train 'split@kmnist; rm -rf .'"], cwd=scratch.path,
                             env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and refused.stderr.startswith("error: STAGE: expected train@<dataset>-<model>")


@pytest.mark.slow
def test_fanout_trains_each_run_in_its_own_clone_and_a_third_finishes_without_training(stored):
    root, base = stored
    stages_command, data_command, train_command = RUN_IN_CLONES[4:7]
    change = PipelineRepo.clone_of(base, root / "fanout")
    change.set_params({"pipeline.models": ["ae", "gan"], "train.seed": 1})  # two train runs to make
    change.commit("a second model, another seed")
    stages = json.loads(run_script(change, stages_command).stdout)
    assert stages == ["train@kmnist-ae", "train@kmnist-gan"]
    data_job = run_script(PipelineRepo.clone_of(change, root / "data"), data_command)
    assert PipelineRepo.stages_run(data_job) == ["check_params"]  # new params; the data sets were in the remote
    for number, stage in enumerate(stages):
        job = PipelineRepo.clone_of(change, root / f"job{number}")
        assert job.stages_run(run_script(job, train_command.replace("train@kmnist-ae", stage))) == [stage]
    finish = PipelineRepo.clone_of(change, root / "finish")
    finished = run_script(finish, RUN_IN_CLONES[3])
    ran = finish.stages_run(finished)
    assert not [stage for stage in ran if stage.startswith("train")], ran
    assert {"evaluate@kmnist-gan", "render@kmnist-gan", "report"} <= set(ran)
    assert "kmnist/gan" in (finish.path / "comparison/report.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_queued_experiments_run_on_two_workers(stored):
    root, base = stored
    lab = PipelineRepo.clone_of(base, root / "queue")
    first, second, start, status_command, show = RUN_IN_CLONES[7:12]
    run_script(lab, "dvc pull")
    for queue in (first, second):
        run_script(lab, queue)
    run_script(lab, start)
    deadline = time.time() + 600
    while time.time() < deadline:
        status = run_script(lab, status_command).stdout
        if not re.search(r"\b(Queued|Running)\b", status):
            break
        time.sleep(5)
    assert status.count("Success") == 2, status
    shown = run_script(lab, show).stdout
    rows = [row for row in csv.DictReader(io.StringIO(shown)) if row["Experiment"]]
    assert sorted(row["models.ae.kmnist.epochs"] for row in rows) == ["2", "3"]
    assert all(float(row["metrics/kmnist/ae.json:judges.strided_cnn.fid"]) > 0 for row in rows)


@pytest.mark.slow  # dvc as a process
def test_the_documented_remotes_are_accepted_by_dvc(tmp_path):
    repo = PipelineRepo(tmp_path / "copy")
    for command in REMOTE_SETUP:
        run_script(repo, command)
    listed = run_script(repo, "dvc remote list").stdout
    assert "/mnt/team/glyphgen-dvc" in listed and "s3://my-bucket/glyphgen" in listed
    assert "endpointurl = https://minio.example.com" in (repo.path / ".dvc/config").read_text(encoding="utf-8")


def test_the_s3_extra_installs_dvcs_s3_plugin():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^s3 = \["dvc-s3[>=]', pyproject, re.MULTILINE)
