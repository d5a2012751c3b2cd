"""docs/adding-a-model.md is the whole of adding a model: in a copy of the project, its file and its params section
(taken from the page itself) make a model that the registry lists, params.yaml configures on every data set, the
tests' tiny preset builds, and the training loop trains, checkpoints and samples."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "adding-a-model.md"


def fenced(language: str) -> str:
    """The page's one code block in `language`."""
    blocks = PAGE.read_text(encoding="utf-8").split(f"```{language}\n")
    assert len(blocks) == 2, f"expected one {language} block in {PAGE}"
    return blocks[1].split("```")[0]


FOLLOW_THE_STEPS = """
import sys
import numpy as np
from glyphgen.io import ImageSet
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.params import load_params, load_pipeline
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.loop import TrainConfig, train
from glyphgen.training.settings import run_settings

name = sys.argv[1]
assert name in MODEL_NAMES, MODEL_NAMES
params = load_params("params.yaml")
pipeline = load_pipeline(params)
assert name in pipeline.models
for dataset in pipeline.datasets:
    config, budget = run_settings(params, name, dataset)
    assert config == model_class(name).presets["default"] and budget.epochs >= 1
tiny = model_class(name).config_from_params("tiny", {}, "tiny")
rng = np.random.default_rng(0)
images = (rng.random((40, 28, 28)) * 255).astype(np.uint8)
train_set = ImageSet(images, np.arange(40) % 10, [str(i) for i in range(10)])
train(name, tiny, train_set, 1, TrainConfig(device="cpu", threads=1, log_every=2, sample_count=4), "out", "work", "live")
model = load_generator("out")
assert model.name == name and model.draw(4, seed=0).shape == (4, 1, 28, 28)
print("trained", name)
"""


def test_the_page_adds_a_model_with_one_file_and_one_params_section(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    model_file = fenced("python")
    name = model_file.split("`", 2)[1]  # the docstring opens with the model's name, as every model's does
    (copy / "src" / "glyphgen" / "models" / f"{name}.py").write_text(model_file, encoding="utf-8")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["pipeline"]["models"].append(name)
    params["models"].update(yaml.safe_load(fenced("yaml")))
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")

    result = subprocess.run([sys.executable, "-c", FOLLOW_THE_STEPS, name], cwd=copy, capture_output=True, text=True,
                            env={"PYTHONPATH": str(copy / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"trained {name}")
    assert not (ROOT / "src" / "glyphgen" / "models" / f"{name}.py").exists()  # the real tree is untouched
