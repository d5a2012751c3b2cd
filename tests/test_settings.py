"""Which config and budget a training run gets from params.yaml, per data set."""

from pathlib import Path

import pytest
import yaml

from glyphgen.errors import GlyphgenError
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.params import SECTIONS, load_params, load_pipeline
from glyphgen.training.settings import run_settings

REPO = Path(__file__).resolve().parents[1]
DATASETS = load_pipeline(load_params(REPO / "params.yaml")).datasets


def test_run_settings_read_the_dataset_section():
    params = {"models": {"gan": {"kmnist": {"preset": "default", "epochs": 2, "train_images": 100},
                                 "glyphs": {"preset": "default", "epochs": 3, "batch_size": 16}}}}
    kmnist_config, kmnist_budget = run_settings(params, "gan", "kmnist")
    glyphs_config, glyphs_budget = run_settings(params, "gan", "glyphs")
    assert kmnist_config.batch_size == model_class("gan").presets["default"].batch_size
    assert glyphs_config.batch_size == 16
    assert (kmnist_budget.epochs, kmnist_budget.train_images) == (2, 100)
    assert (glyphs_budget.epochs, glyphs_budget.train_images) == (3, 0)


def test_a_null_key_takes_the_presets_value():
    params = {"models": {"gan": {"glyphs": {"preset": "reference", "epochs": 1, "lr": None, "batch_size": None}}}}
    config, _ = run_settings(params, "gan", "glyphs")
    assert config == model_class("gan").presets["reference"]


def test_a_dataset_without_epochs_is_a_one_line_error():
    with pytest.raises(GlyphgenError, match=r"^params.yaml:models.vae.glyphs: expected epochs >= 1"):
        run_settings({"models": {"vae": {"kmnist": {"epochs": 2}, "glyphs": {"preset": "default"}}}}, "vae", "glyphs")


def test_a_missing_dataset_section_names_it():
    with pytest.raises(GlyphgenError, match=r"missing section 'models.vae.glyphs'"):
        run_settings({"models": {"vae": {"kmnist": {"epochs": 2}}}}, "vae", "glyphs")
    with pytest.raises(GlyphgenError, match=r"^params.yaml:models.vae.glyphs: expected a mapping"):
        run_settings({"models": {"vae": {"glyphs": 3}}}, "vae", "glyphs")


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


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_the_gpu_params_train_the_exact_reference_recipes(name, dataset):
    config, budget = run_settings(gpu_params(), name, dataset)
    assert config == model_class(name).presets["reference"]
    assert budget.train_images == 0


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_the_default_params_parse_for_every_run(name, dataset):
    config, budget = run_settings(load_params(REPO / "params.yaml"), name, dataset)
    assert budget.epochs >= 1 and config.batch_size >= 1


def test_params_yaml_holds_exactly_the_known_sections():
    assert tuple(load_params(REPO / "params.yaml")) == SECTIONS


def test_a_misspelled_section_model_or_data_set_is_a_one_line_error(tmp_path):
    (tmp_path / "params.yaml").write_text("train: {seed: 0}\ntrian: {seed: 1}\n")
    with pytest.raises(GlyphgenError, match=rf"^{tmp_path / 'params.yaml'}: unknown section 'trian' \(expected one"):
        load_params(tmp_path / "params.yaml")
    run = {"preset": "default", "epochs": 1}
    with pytest.raises(GlyphgenError, match=r"^params.yaml:models: unknown model 'vea' \(expected one of: aae, "):
        run_settings({"models": {"vae": {"kmnist": run}, "vea": {"kmnist": run}}}, "vae", "kmnist")
    with pytest.raises(GlyphgenError, match=r"^params.yaml: missing section 'models.vae.kmnist'"):
        run_settings({"models": {"vae": {"kmnsit": run}}}, "vae", "kmnist")
