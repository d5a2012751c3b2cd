"""End to end: the whole real `dvc repro` (data, training, judge, evaluation, pictures, report) on a few
hundred images in a temporary git repository, then DVC's caching and comparison commands on the result."""

import json

import pytest

from pipeline_repo import KMNIST_MIRROR, PipelineRepo

DATASETS = ["kmnist", "glyphs"]
MODELS = ["vae", "gan"]  # one model with an encoder and a 2-D latent, one without: every render path runs
TINY = {
    "pipeline.models": MODELS,
    "render_glyphs.charset": "ABCab",
    "augment_glyphs.n_samples": 150,
    "split.kmnist.max_train": 300,
    "split.kmnist.max_test": 100,
    "models.vae.latent_dim": 2,  # the manifold picture is drawn for 2-D latents
    "train.log_every": 2,
    "train.sample_count": 16,
    **{f"models.{model}.{budget}.{dataset}": value
       for model in MODELS for dataset in DATASETS for budget, value in (("epochs", 1), ("train_images", 200))},
    "train_classifier.classifier.epochs": 1,
    "evaluate.num_samples": 200,
    "evaluate.encoded_images": 50,
    "render.manifold_steps": 4,
    "render.morph_steps": 3,
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    if not KMNIST_MIRROR.is_dir():
        pytest.skip("KMNIST mirror ../shared/kmnist not found beside the repository")
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
        assert {f"train_classifier@{dataset}", f"evaluate_references@{dataset}"} <= ran
        for model in MODELS:
            assert {f"train@{dataset}-{model}", f"evaluate@{dataset}-{model}", f"render@{dataset}-{model}"} <= ran
            assert (repo.path / f"models/{dataset}/{model}/model.pt").is_file()
            scores = repo.metrics(f"metrics/{dataset}/{model}.json")
            assert scores["num_samples"] == TINY["evaluate.num_samples"] and scores["fid"] > 0
            renders = repo.path / f"reports/renders/{dataset}/{model}"
            assert (renders / "samples.png").is_file() and (renders / "morph.gif").is_file()
        assert (repo.path / f"reports/renders/{dataset}/vae/manifold.png").is_file()
        assert not (repo.path / f"reports/renders/{dataset}/gan/reconstructions.png").exists()
    markdown = (repo.path / "reports/metrics.md").read_text(encoding="utf-8")
    assert all(model in markdown for model in MODELS)


@pytest.mark.slow
def test_nothing_reruns_then_one_model_change_reruns_only_that_model(pipeline):
    repo, _ = pipeline
    again = repo.repro()
    assert again.returncode == 0 and repo.stages_run(again) == []

    repo.set_params({"models.gan.epochs.kmnist": 2})
    changed = repo.repro()
    assert changed.returncode == 0, changed.stderr[-3000:]
    rerun = set(repo.stages_run(changed))
    assert {"train@kmnist-gan", "evaluate@kmnist-gan", "render@kmnist-gan", "report"} <= rerun
    assert all("gan" in stage or stage == "report" for stage in rerun), rerun


@pytest.mark.slow
def test_dvc_metrics_show_lists_every_model(pipeline):
    repo, _ = pipeline
    shown = repo.dvc("metrics", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    listed = json.dumps(json.loads(shown.stdout))
    assert all(f"metrics/{dataset}/{model}.json" in listed for dataset in DATASETS for model in MODELS)
