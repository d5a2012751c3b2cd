import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_repro_runs_the_stages_with_the_venv_python_first_on_path(tmp_path):
    # dvc.yaml's commands call `python`: without the venv first on PATH a fresh clone fails on `import glyphgen`.
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()  # newer than pyproject.toml: make takes the venv as built
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "repro", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    repro_lines = [line for line in dry_run.splitlines() if "dvc repro" in line]
    assert len(repro_lines) == 1 and f'PATH="{venv}/bin:$PATH" dvc repro &&' in repro_lines[0], dry_run
    # ...then the table of stage timings, from the run's start.
    assert "started=$(date +%s)" in repro_lines[0]
    assert f"{venv}/bin/python -m glyphgen timings --since $started -o reports/timings.md" in dry_run


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_test_fast_and_bench_run_what_the_readme_says(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()
    commands = {target: subprocess.run(["make", "--no-print-directory", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True,
                                       text=True, check=True).stdout.strip()
                for target in ("test", "test-fast", "bench")}
    assert commands == {"test": f"{venv}/bin/python -m pytest -q -n auto --dist loadfile",
                        "test-fast": f"{venv}/bin/python -m pytest -q -m 'not slow'",
                        "bench": f"{venv}/bin/python benchmarks/versus_reference.py --dvc-dir ."}
