"""The test suite itself: what it needs from outside the repository, and how it is run."""

import os
import subprocess
import sys

import pytest

from pipeline_repo import PROJECT_ROOT

# One test of each kind that reads the KMNIST mirror: through tiny_models.kmnist_slice, conftest's session
# fixtures, the kmnist_mirror fixture, and the end-to-end pipeline's module fixture.
NEEDS_KMNIST = [
    "tests/test_models.py::test_training_steps_lower_the_loss_on_a_fixed_batch[ae]",
    "tests/test_training.py::test_same_params_give_the_same_weights",
    "tests/test_judges.py::test_every_judge_learns_kmnist_from_a_small_slice[cnn]",
    "tests/test_kmnist.py::test_environment_mirror_wins_over_params_and_file_urls_work",
    "tests/test_pipeline.py::test_nothing_reruns_on_a_second_repro",
]


@pytest.mark.slow  # a second pytest, collecting the whole suite
def test_without_the_kmnist_mirror_its_tests_skip_and_say_why(tmp_path):
    missing = tmp_path / "no-kmnist-here"
    env = {**os.environ, "GLYPHGEN_KMNIST_MIRROR": str(missing)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *NEEDS_KMNIST],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert f"{len(NEEDS_KMNIST)} skipped" in summary and "passed" not in summary and "error" not in summary, summary
    assert result.stdout.count(f"KMNIST mirror not found at {missing}") == len(NEEDS_KMNIST), result.stdout
