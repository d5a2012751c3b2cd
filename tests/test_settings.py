"""Which config and budget a training run gets from params.yaml, per data set."""

from pathlib import Path

import pytest
import yaml

from glyphgen.errors import GlyphgenError
from glyphgen.models import MODELS
from glyphgen.params import load_params, values_for_dataset
from glyphgen.training.settings import DATASETS, run_settings

REPO = Path(__file__).resolve().parents[1]


def test_per_dataset_values_pick_the_dataset_and_drop_what_is_left_out():
    section = {"lr": {"glyphs": 2e-4}, "batch_size": 64, "epochs": {"kmnist": 3, "glyphs": 5}, "ema_decay": None}
    assert values_for_dataset(section, "kmnist", DATASETS) == {"batch_size": 64, "epochs": 3}
    assert values_for_dataset(section, "glyphs", DATASETS) == {"lr": 2e-4, "batch_size": 64, "epochs": 5}


def test_run_settings_apply_the_dataset_overrides():
    params = {"models": {"gan": {"preset": "default", "batch_size": {"glyphs": 16},
                                 "epochs": {"kmnist": 2, "glyphs": 3}, "train_images": {"kmnist": 100}}}}
    kmnist_config, kmnist_budget = run_settings(params, "gan", "kmnist")
    glyphs_config, glyphs_budget = run_settings(params, "gan", "glyphs")
    assert kmnist_config.batch_size == MODELS["gan"].presets["default"].batch_size and glyphs_config.batch_size == 16
    assert (kmnist_budget.epochs, kmnist_budget.train_images) == (2, 100)
    assert (glyphs_budget.epochs, glyphs_budget.train_images) == (3, 0)


def test_a_dataset_without_epochs_is_a_one_line_error():
    with pytest.raises(GlyphgenError, match=r"params.yaml:models.vae \(for glyphs\): expected epochs >= 1"):
        run_settings({"models": {"vae": {"epochs": {"kmnist": 2}}}}, "vae", "glyphs")


def gpu_params() -> dict:
    """params.yaml with params-gpu.txt's overrides applied, as `dvc exp run -S key=value` does."""
    params = load_params(REPO / "params.yaml")
    for line in (REPO / "params-gpu.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            *parents, leaf = key.split(".")
            node = params
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = yaml.safe_load(value)
    return params


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("dataset", DATASETS)
def test_the_gpu_params_train_the_exact_reference_recipes(name, dataset):
    config, budget = run_settings(gpu_params(), name, dataset)
    assert config == MODELS[name].presets["reference"]
    assert budget.train_images == 0


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("dataset", DATASETS)
def test_the_default_params_parse_for_every_run(name, dataset):
    config, budget = run_settings(load_params(REPO / "params.yaml"), name, dataset)
    assert budget.epochs >= 1 and config.batch_size >= 1
