"""The stages that load a trained model without fitting anything start without scikit-learn or matplotlib:
scikit-learn (and SciPy beneath it) takes about a second to import and matplotlib about half of one, paid again
by each of the 40 evaluate and render stages (the loss curves are drawn by one loss_curves stage per data set)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("stage", ["evaluate", "render"])
def test_the_stage_imports_no_scikit_learn_or_matplotlib(stage):
    check = (f"import runpy, sys; runpy.run_path('stages/{stage}.py', run_name='imported'); "
             "from glyphgen.models import MODEL_NAMES, model_class; [model_class(name) for name in MODEL_NAMES]; "
             "print(sorted(name for name in ('sklearn', 'scipy', 'matplotlib') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
