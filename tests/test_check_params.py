"""The check_params stage: every value a stage reads is checked before any stage runs, so a bad one is a one-line
error naming it and no previous output is lost, in `dvc repro` and `dvc exp run` alike."""

from __future__ import annotations

import copy

import networkx as nx
import pytest
import yaml
from dvc.repo import Repo

from glyphgen.check_params import check_params
from glyphgen.errors import GlyphgenError
from glyphgen.params import load_params
from pipeline_repo import PROJECT_ROOT, PipelineRepo
from tiny_models import kmnist_slice


def with_values(params: dict, overrides: dict) -> dict:
    changed = copy.deepcopy(params)
    for dotted, value in overrides.items():
        *parents, last = dotted.split(".")
        node = changed
        for key in parents:
            node = node[key]
        node[last] = value
    return changed


def test_the_projects_params_and_the_gpu_recipes_pass():
    params = load_params(PROJECT_ROOT / "params.yaml")
    check_params(params)
    lines = (PROJECT_ROOT / "params-gpu.txt").read_text(encoding="utf-8").splitlines()
    gpu = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    check_params(with_values(params, {key: yaml.safe_load(value) for key, value in gpu.items()}))


@pytest.mark.parametrize("overrides, error", [
    ({"models.vae.kmnist.latent_dim": 0}, "params.yaml:models.vae.kmnist: latent_dim: expected a value > 0, got 0"),
    ({"models.gan.glyphs.lr": -0.001}, "params.yaml:models.gan.glyphs: lr: expected a value > 0"),
    ({"models.ae.kmnist.batch_size": 0}, "params.yaml:models.ae.kmnist: batch_size: expected a value > 0, got 0"),
    ({"convert_glyphs.image_size": 30},
     "params.yaml:models.conv_ae.glyphs: cannot take 30px images (params.yaml:convert_glyphs.image_size): conv_ae:"),
    ({"convert_glyphs.image_size": 33},
     "params.yaml:models.conv_ae.glyphs: cannot take 33px images (params.yaml:convert_glyphs.image_size)"),
    ({"convert_glyphs.image_size": 33, "pipeline.models": ["vae"]},
     "params.yaml:models.vae.glyphs: cannot take 33px images (params.yaml:convert_glyphs.image_size): vae:"),
    ({"pipeline.models": ["vae", "vea"]}, "params.yaml:pipeline.models: unknown model 'vea'"),
    ({"pipeline.datasets": ["mnist"]}, "params.yaml:pipeline.datasets: unknown data set 'mnist'"),
    ({"split.seed": "one"}, "params.yaml:split.seed: expected int, got 'one'"),
    ({"evaluate.num_samples": "many"}, "params.yaml:evaluate.num_samples: expected int, got 'many'"),
])
def test_a_bad_value_is_one_line_naming_it(overrides, error):
    with pytest.raises(GlyphgenError) as raised:
        check_params(with_values(load_params(PROJECT_ROOT / "params.yaml"), overrides))
    assert str(raised.value).startswith(error) and "\n" not in str(raised.value)


def test_only_the_models_of_the_pipeline_must_take_the_image_size():
    params = with_values(load_params(PROJECT_ROOT / "params.yaml"),
                         {"convert_glyphs.image_size": 30, "pipeline.models": ["ae", "vae", "gan"]})
    check_params(params)


def test_every_other_stage_comes_after_the_check():
    with Repo(str(PROJECT_ROOT)) as repo:
        stages = {stage.addressing: stage for stage in repo.index.stages}
        after = {stage.addressing for stage in nx.ancestors(repo.index.graph, stages["check_params"])}
    assert set(stages) - after == {"check_params"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny KMNIST ae trained by `dvc repro` in a fresh copy of the project, and its outputs' bytes."""
    kmnist_slice(0)  # skips without the KMNIST mirror
    repo = PipelineRepo(tmp_path_factory.mktemp("checked") / "repo")
    repo.set_params({"pipeline.datasets": ["kmnist"], "pipeline.models": ["ae"], "split.kmnist.max_train": 200,
                     "split.kmnist.max_test": 100, "models.ae.kmnist.epochs": 1, "train.threads": 1})
    first = repo.repro("train@kmnist-ae")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert repo.stages_run(first)[0] == "check_params"
    repo.commit("trained")
    outputs = ["models/kmnist/ae/model.pt", "data/processed/kmnist/train.npz", "data/raw/kmnist/train.npz"]
    return repo, {path: (repo.path / path).read_bytes() for path in outputs}


@pytest.mark.slow
@pytest.mark.parametrize("command, error", [
    ("dvc repro train@kmnist-ae", "error: params.yaml:models.ae.kmnist: latent_dim: expected a value > 0, got 0"),
    ("dvc exp run", "error: params.yaml:models.ae.kmnist: latent_dim: expected a value > 0, got 0"),
    ("dvc exp run -S +models.ae.kmnist.lr=-1", "error: params.yaml:models.ae.kmnist: lr: expected a value > 0"),
    ("dvc repro", "error: params.yaml:models.conv_ae.glyphs: cannot take 30px images"),
])
def test_dvc_stops_at_the_check_and_every_previous_output_stays(trained, command, error):
    repo, outputs = trained
    if command == "dvc repro":
        repo.set_params({"pipeline.models": ["ae", "conv_ae"], "pipeline.datasets": ["kmnist", "glyphs"],
                         "convert_glyphs.image_size": 30})
    elif "-S" not in command:
        repo.set_params({"models.ae.kmnist.latent_dim": 0})
    try:
        failed = repo.shell(command)
        assert failed.returncode != 0
        assert [line for line in failed.stderr.splitlines() if line.startswith(error)], failed.stderr[-2000:]
        assert repo.stages_run(failed) == ["check_params"]
        assert {path: (repo.path / path).read_bytes() for path in outputs} == outputs
    finally:
        repo.git("checkout", "--", "params.yaml")
