"""End to end: the whole real `dvc repro` (data, training, judge, evaluation, pictures, report) on a few
hundred images in a temporary git repository, then DVC's caching, experiments and comparison commands on the
result. The tests share that one run and follow each other in order."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from glyphgen.params import load_judge_names, load_params, load_pipeline
from glyphgen.timings import load_timings
from glyphgen.training.checkpoint import load_generator
from pipeline_repo import PROJECT_ROOT, PipelineRepo
from test_docs import QUEUED, README_BLOCK, RUN_IN_TINY_PIPELINE
from test_dvc_deps import code_run_by, stages
from tiny_models import kmnist_slice

DATASETS = load_pipeline(load_params(PROJECT_ROOT / "params.yaml")).datasets
JUDGES = load_judge_names(load_params(PROJECT_ROOT / "params.yaml"))
MODELS = ["vae", "gan"]  # one model with an encoder and a 2-D latent, one without: every render path runs
TINY = {
    "pipeline.models": MODELS,
    "render_glyphs.charset": "ABCab",
    "augment_glyphs.n_samples": 150,
    "split.kmnist.max_train": 300,
    "split.kmnist.max_test": 100,
    **{f"models.vae.{dataset}.latent_dim": 2 for dataset in DATASETS},  # the manifold picture needs a 2-D latent
    "train.log_every": 2,
    "train.sample_count": 16,
    **{f"models.{model}.{dataset}.{budget}": value
       for model in MODELS for dataset in DATASETS for budget, value in (("epochs", 1), ("train_images", 200))},
    **{f"train_judges.judges.{judge}.epochs.{dataset}": 1 for judge in JUDGES for dataset in DATASETS},
    "evaluate.num_samples": 200,
    "evaluate.kid_subsets": 5,
    "evaluate.kid_subset_size": 100,
    "evaluate.two_sample_images": 200,
    "evaluate.two_sample_epochs": 2,
    "evaluate.sanity_images": 60,
    "evaluate.encoded_images": 50,
    "render.manifold_steps": 4,
    "render.morph_steps": 3,
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    kmnist_slice(0)  # skips the module without the KMNIST mirror
    repo = PipelineRepo(tmp_path_factory.mktemp("pipeline"))
    repo.set_params(TINY)
    first = repo.repro()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return repo, first


@pytest.mark.slow
def test_every_stage_runs_and_writes_its_outputs(pipeline):
    repo, first = pipeline
    ran = set(repo.stages_run(first))
    for dataset in DATASETS:
        assert {f"train_judges@{dataset}", f"metric_sanity@{dataset}", f"evaluate_references@{dataset}",
                f"loss_curves@{dataset}"} <= ran
        for model in MODELS:
            assert {f"train@{dataset}-{model}", f"evaluate@{dataset}-{model}", f"render@{dataset}-{model}"} <= ran
            assert (repo.path / f"models/{dataset}/{model}/model.pt").is_file()
            scores = repo.metrics(f"metrics/{dataset}/{model}.json")
            # every model draws as many samples as the smaller of num_samples and the train split, scored against
            # the whole test split
            train_count, test_count = (len(repo.image_set(f"data/processed/{dataset}/{split}.npz").images)
                                       for split in ("train", "test"))
            assert scores["num_samples"] == min(TINY["evaluate.num_samples"], train_count)
            assert scores["num_reference"] == test_count
            assert sorted(scores["judges"]) == sorted(JUDGES)
            for judged in scores["judges"].values():
                assert judged["fid_low"] <= judged["fid"] <= judged["fid_high"] and judged["fid"] > 0
            renders = repo.path / f"reports/renders/{dataset}/{model}"
            conditional = load_generator(repo.path / f"models/{dataset}/{model}").conditional
            # A conditional model draws each class instead of a noise-to-noise morph.
            drawn = "classes.png" if conditional else "morph.gif"
            assert (renders / "samples.png").is_file() and (renders / drawn).is_file()
            assert (repo.path / f"reports/renders/{dataset}/loss_curves/{model}.png").is_file()
        assert (repo.path / f"reports/renders/{dataset}/vae/manifold.png").is_file()
        assert not (repo.path / f"reports/renders/{dataset}/gan/reconstructions.png").exists()
    markdown = (repo.path / "reports/metrics.md").read_text(encoding="utf-8")
    assert all(model in markdown for model in MODELS)
    page = (repo.path / "reports/index.html").read_text(encoding="utf-8")
    assert all(f'src="renders/{dataset}/real_test/samples.png"' in page for dataset in DATASETS)  # the gallery
    assert ran <= {timing.stage for timing in load_timings(repo.path / "timings")}  # every stage timed itself


@pytest.mark.slow
def test_status_is_clean_after_the_run_and_after_bytecode_is_written(pipeline):
    repo, _ = pipeline
    assert repo.status() == {}  # no `dvc commit` needed: what dvc.lock hashed is what is there
    # What a test run leaves beside the sources: DVC must not hash it into the folder deps (.dvcignore).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "src", "stages", "tests"], cwd=repo.path, check=True)
    assert any((repo.path / "src/glyphgen/models").rglob("*.pyc"))
    assert repo.status() == {}


@pytest.mark.slow
def test_nothing_reruns_on_a_second_repro(pipeline):
    repo, _ = pipeline
    again = repo.repro()
    assert again.returncode == 0 and repo.stages_run(again) == []


@pytest.mark.slow
def test_a_change_to_io_py_reruns_every_stage_that_imports_it(pipeline):
    repo, first = pipeline
    importers = {stage.name for stage in stages() if "src/glyphgen/io.py" in code_run_by(stage)}
    original = (repo.path / "src/glyphgen/io.py").read_text(encoding="utf-8")
    repo.append("src/glyphgen/io.py", "# a comment\n")
    # `dvc status` is the test `dvc repro` makes before running a stage; asking it spares re-running them all.
    assert set(repo.status()) == importers & set(repo.stages_run(first)) != set()
    (repo.path / "src/glyphgen/io.py").write_text(original, encoding="utf-8")
    assert repo.status() == {}


@pytest.mark.slow
def test_a_comment_in_one_models_file_retrains_that_model_alone_to_the_same_bytes(pipeline):
    repo, _ = pipeline
    before = {dataset: repo.locked_outs(f"train@{dataset}-gan") for dataset in DATASETS}
    repo.append("src/glyphgen/models/gan.py", "# a comment\n")
    changed = repo.repro()
    assert changed.returncode == 0, changed.stderr[-3000:]
    rerun = set(repo.stages_run(changed))
    assert {f"train@{dataset}-gan" for dataset in DATASETS} <= rerun
    # loss_curves@<dataset> draws every model's logs, which carry the new run's timestamps.
    # check_params reads all of src/glyphgen; its mark keeps its bytes, so it re-runs nothing itself.
    assert all(stage.endswith("-gan") or stage.split("@")[0] in {"check_params", "loss_curves", "report"}
               for stage in rerun), rerun
    # Same inputs, same outputs: the timing lives apart (timings/), so the retrained runs hash as before.
    assert {dataset: repo.locked_outs(f"train@{dataset}-gan") for dataset in DATASETS} == before
    assert "train_seconds" in repo.metrics("timings/train@kmnist-gan.json")["figures"]


@pytest.mark.slow
def test_the_readmes_everyday_commands_run_as_written_and_an_experiment_retrains_its_run_alone(pipeline):
    repo, _ = pipeline
    # A key params.yaml does not hold needs `+` (README); without it DVC refuses the override.
    refused = repo.dvc("exp", "run", "--queue", "-S", "models.vae.kmnist.kl_weight=0.5")
    assert refused.returncode != 0 and "not in struct" in refused.stderr + refused.stdout
    (repo.path / ".venv").symlink_to(sys.prefix)  # the block activates the project's venv
    with open(repo.path / ".git/info/exclude", "a", encoding="utf-8") as exclude:
        exclude.write("/.venv\n")
    block = repo.shell("set -e\n" + "\n".join(README_BLOCK))
    assert block.returncode == 0, block.stdout[-3000:] + block.stderr[-3000:]
    rerun = set(repo.stages_run(block))
    assert rerun - {"check_params", "report", "loss_curves@kmnist"} == {"train@kmnist-vae", "evaluate@kmnist-vae",
                                                                         "render@kmnist-vae"}
    assert load_generator(repo.path / "models/kmnist/vae").config.kl_weight == 0.5
    assert (repo.path / "vae.png").is_file() and repo.status() == {}


@pytest.mark.slow
def test_the_costly_documented_experiments_are_accepted_by_dvc(pipeline):
    repo, _ = pipeline
    params = (repo.path / "params.yaml").read_text(encoding="utf-8")
    # Queued instead of run: DVC checks every override (a key missing from params.yaml is refused) and leaves
    # the workspace as it was. (`--dry` is no help: it fails on outputs it does not check out.)
    for command in QUEUED:
        queued = repo.shell(command.replace("dvc exp run", "dvc exp run --queue", 1))
        assert queued.returncode == 0, command + queued.stdout[-3000:] + queued.stderr[-3000:]
    assert repo.dvc("queue", "remove", "--queued").returncode == 0
    assert (repo.path / "params.yaml").read_text(encoding="utf-8") == params


@pytest.mark.slow
def test_dvc_metrics_and_plots_show_every_model(pipeline):
    repo, _ = pipeline
    shown = repo.dvc("metrics", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    listed = json.dumps(json.loads(shown.stdout))
    for dataset in DATASETS:
        for model in MODELS:
            assert f"metrics/{dataset}/{model}.json" in listed
            assert f"metrics/{dataset}/training/{model}/metrics.json" in listed  # declared by the train matrix
    plots = repo.dvc("plots", "show", "--json")
    assert plots.returncode == 0, plots.stderr
    assert all(f"metrics/{dataset}/training/{model}/plots/metrics/train/loss.tsv" in plots.stdout
               for dataset in DATASETS for model in MODELS)


@pytest.mark.slow
def test_every_other_documented_command_runs_as_written(pipeline, tmp_path_factory):
    repo, _ = pipeline
    repo.git("add", "-A")
    repo.git("-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "the tiny run")
    clone = tmp_path_factory.mktemp("clone")  # beside the repository, so it shares its DVC remote (README)
    has_chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    for command in RUN_IN_TINY_PIPELINE:
        if command == "scripts/screenshot_report.sh" and not has_chromium:
            continue  # the script says how to install it
        if command == "dvc pull":
            subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)
            ran = subprocess.run(["bash", "-c", command], cwd=clone, env=repo.env(), capture_output=True, text=True)
        else:
            ran = repo.shell(command)
        assert ran.returncode == 0, f"{command}\n{ran.stdout[-3000:]}{ran.stderr[-3000:]}"
    assert (repo.path / "gan.png").is_file() and np.load(repo.path / "vae.npy").shape == (1000, 32, 32)
    assert repo.git_output("status", "--porcelain", "data/matplotlib_fonts.json") == ""  # the record was current
    assert (repo.path / "dvc_plots/index.html").is_file()
    assert load_generator(clone / "models/kmnist/vae").image_size == 28  # pulled into the fresh clone
