"""The docs say what the code does: every command shown in README.md and docs/ is run by a test exactly as
written (the cheap ones; the rest are listed below with the reason and a cheaper check), the pipeline graph
in docs/pipeline.md is the one DVC draws, and the licence file matches pyproject.toml."""

from __future__ import annotations

import itertools
import re
import shutil

import pytest
from dvc.repo import Repo

from glyphgen.data.fonts import MATPLOTLIB_FONTS
from pipeline_repo import PROJECT_ROOT, PipelineRepo

DOCS = ["README.md", *sorted(path.relative_to(PROJECT_ROOT).as_posix() for path in (PROJECT_ROOT / "docs").glob("*.md")),
        "data/fonts/README.md"]
# Fenced blocks in these languages show code or params, not commands.
NOT_COMMANDS = ("mermaid", "python", "yaml")
# What starts a command in an inline code span (`dvc metrics show`), as opposed to a file or key name.
COMMAND_STARTS = ("dvc ", "python ", "make ", "PYTHONPATH=", "scripts/", ". ", "time ", "git ", "bash ")

# How the tests run each documented command, exactly as written:
# - the README's block of everyday commands, as one shell script in the tiny pipeline (test_pipeline.py)
README_BLOCK = [
    ". .venv/bin/activate",
    "dvc repro train@kmnist-vae",
    "dvc exp run -S models.vae.kmnist.epochs=3 -S +models.vae.kmnist.kl_weight=0.5",
    "python -m glyphgen sample models/kmnist/vae -n 64 -o vae.png",
]
# - one by one, in this order, in the tiny pipeline after its run is committed (test_pipeline.py)
RUN_IN_TINY_PIPELINE = [
    "dvc repro split",
    "dvc metrics show",
    "dvc plots show",
    "python -m glyphgen record-fonts",
    "python -m glyphgen timings",
    "python -m glyphgen sample models/kmnist/gan -n 64 -o gan.png --seed 1",
    "python -m glyphgen sample models/glyphs/vae -n 1000 -o vae.npy",
    "dvc exp run -S 'pipeline.models=[vae,gan]'",
    "dvc exp show --only-changed",
    "dvc metrics diff main",
    "dvc metrics diff HEAD~1 HEAD --targets metrics/kmnist/vae.json",
    "dvc plots diff",
    "dvc plots diff main",
    "dvc plots diff main --targets reports/renders/kmnist/vae --open",
    "dvc push",
    "dvc pull",  # in a fresh clone, as the README says
    "scripts/screenshot_report.sh",  # where Chromium is installed
]
# - in a fresh copy of the project (this file)
RUN_IN_A_FRESH_COPY = ["dvc dag --mermaid", "dvc add data/fonts/MyFont.ttf"]
# - in git clones of the tiny pipeline sharing one local DVC remote, as teammates and CI jobs (test_ci.py)
RUN_IN_CLONES = [
    "dvc pull",  # a teammate's fresh clone: then nothing to do, nothing trained
    "dvc status",
    "dvc repro",
    "scripts/retrain.sh HEAD~1",  # a change, then the same commit again on a fresh machine, then the fan-out's end
    "scripts/fanout.sh stages",
    "scripts/fanout.sh data",
    "scripts/fanout.sh train train@kmnist-ae",
    "dvc exp run --queue -S models.ae.kmnist.epochs=2 -S train.threads=1",
    "dvc exp run --queue -S models.ae.kmnist.epochs=3 -S train.threads=1",
    "dvc queue start -j 2",
    "dvc queue status",
    "dvc exp show --csv",
    "scripts/retrain.sh --read-only HEAD~1",  # a pull request's job: the remote is left byte-identical
]
# - in a fresh copy, where they only write .dvc/config (test_ci.py)
REMOTE_SETUP = [
    "dvc remote add -d shared /mnt/team/glyphgen-dvc",
    "dvc remote add -d storage s3://my-bucket/glyphgen",
    "dvc remote modify storage endpointurl https://minio.example.com",
]
# - by `dvc repro` itself: the command of a stage, checked against dvc.yaml (this file)
STAGE_COMMANDS = {"python stages/train.py --dataset kmnist --model vae": "train@kmnist-vae",
                  "python stages/evaluate.py kmnist vae": "evaluate@kmnist-vae"}
# Too costly to run in a test: each is checked another way.
QUEUED = [  # re-train the judges, re-evaluate every run or train at full budgets: `dvc exp run --queue` checks
    # that DVC accepts every override (test_pipeline.py)
    "dvc exp run -S train_judges.judges.mlp.epochs.kmnist=5",
    "dvc exp run -S evaluate.num_samples=5000 -S render.seed=1",
    "dvc exp run $(grep -v '^#' params-gpu.txt | sed 's/^/-S /')",
    "dvc exp run --queue -S train.device=cuda:1 -S models.vae.kmnist.epochs=30",  # (queued twice: `--queue` is idempotent)
    "dvc exp run -S train.distributed.nproc_per_node=4",  # four ranks; two ranks are trained in test_distributed.py
]
NOT_RUN = {
    "pip install -e '.[s3]'": "installs dvc-s3 from the registry; test_ci.py checks that the extra names it",
    "make repro": "the whole default pipeline; `make -n repro` is checked (test_makefile.py)",
    "dvc repro": "the whole default pipeline, as `make repro` runs it; the tiny pipeline runs it on small params",
    "make test": "the test suite itself; `make -n test` is checked (test_makefile.py)",
    "make test-fast": "part of the test suite; `make -n test-fast` is checked (test_makefile.py)",
    "python -m glyphgen sample models/glyphs/aae_supervised -n 64 --label A -o a.png": "needs a trained "
    "aae_supervised; the same command on a tiny checkpoint, and its errors, run in test_aae_family.py",
    "python -m glyphgen alphabet models/glyphs/aae_supervised --style some_glyph.png -o alphabet.png": "needs a "
    "trained aae_supervised and a glyph image; test_aae_family.py runs it on a tiny checkpoint and a drawn glyph",
    "PYTHONPATH=src python benchmarks/aae_family.py aae_semi kmnist --epochs 2 --threads 2 --set n_labels=100":
        "minutes of training, numbers to read, not a test; the scores it prints are tested in test_aae_family.py",
    "make bench": "minutes of timing; `make -n bench` is checked (test_makefile.py)",
    "dvc repro train@kmnist-linear_ae": "the stage of docs/adding-a-model.md's example, which is not in the tree; "
    "test_adding_a_model.py trains that model through the loop in a copy of the project",
    "dvc repro -f -s train@kmnist-conv_ae": "a minute of training to time, a figure to read; "
    "a forced single-stage repro runs in test_resume_after_kill.py",
    "PYTHONPATH=src python benchmarks/train_throughput.py": "minutes of timing, a figure to read, not a test",
    "PYTHONPATH=src python benchmarks/versus_reference.py --dvc-dir .": "minutes of timing, a figure to read; test_versus_reference.py runs one comparison row",
    "scripts/gpu_check.sh OUT_DIR [SECONDS] [PHASES]": "needs a CUDA GPU; test_step.py runs the step's CPU paths and test_versus_reference.py the benchmark's",
    "PYTHONPATH=src python benchmarks/evaluate_time.py --dataset kmnist --model dcgan [--samples 10000]": "minutes of timing, a figure to read, not a test",
    "PYTHONPATH=src python benchmarks/metric_sanity.py": "the judges of the default run and a minute of scoring; "
    "test_sanity.py checks the degradations and the check on a tiny slice",
    "PYTHONPATH=src python benchmarks/mixture_fit.py --dataset kmnist --model aae": "needs the default run's trained "
    "aae; test_code_mixture.py checks that the fit it times is the one the models make",
}


def documented_commands() -> dict[str, set[str]]:
    """Every command in the docs -> the files that show it: each line of an indented or fenced code block (but
    those of NOT_COMMANDS), less a trailing `# comment`, and each inline code span that starts like a command."""
    found: dict[str, set[str]] = {}
    for name in DOCS:
        fenced, block, previous_blank = None, False, True
        for line in (PROJECT_ROOT / name).read_text(encoding="utf-8").splitlines():
            commands = []
            if line.startswith("```"):
                fenced = None if fenced is not None else line[3:].strip()
            elif fenced is not None:
                commands = [line] if fenced not in NOT_COMMANDS else []
            elif line.startswith("    ") and line.strip() and (previous_blank or block):
                block, commands = True, [line]
            else:
                block = False
                commands = [span for span in re.findall(r"`([^`\n]+)`", line) if span.startswith(COMMAND_STARTS)]
            for command in commands:
                found.setdefault(command.split("  #")[0].strip(), set()).add(name)
            previous_blank = not line.strip()
    return found


def test_every_documented_command_is_run_by_a_test_or_says_why_not():
    run_or_checked = [*README_BLOCK, *RUN_IN_TINY_PIPELINE, *RUN_IN_A_FRESH_COPY, *RUN_IN_CLONES, *REMOTE_SETUP,
                      *STAGE_COMMANDS, *QUEUED, *NOT_RUN]
    documented = documented_commands()
    assert sorted(set(documented) - set(run_or_checked)) == []  # a new command in the docs needs a test
    assert sorted(set(run_or_checked) - set(documented)) == []  # a command the docs dropped


def test_the_stage_commands_in_the_docs_are_the_ones_dvc_repro_runs():
    with Repo(str(PROJECT_ROOT)) as repo:
        commands = {stage.addressing: stage.cmd for stage in repo.index.stages}
    assert {command: commands[stage] for command, stage in STAGE_COMMANDS.items()} == \
        {command: command for command in STAGE_COMMANDS}


def test_the_licence_file_matches_pyproject():
    # (not tomllib: it came with Python 3.11, and the project supports 3.10)
    licence = re.search(r'^license = \{ text = "(.+)" \}$', (PROJECT_ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert licence and (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8").startswith(f"{licence[1]} License\n")


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory):
    """The project in a new git + DVC repository, drawing the graph for one model as docs/pipeline.md does."""
    repo = PipelineRepo(tmp_path_factory.mktemp("fresh"))
    repo.set_params({"pipeline.models": ["vae"]})
    return repo


def graph_edges(mermaid: list[str]) -> set[tuple[str, str]]:
    """The edges of a mermaid flowchart written as `a --> b & c --> d` chains."""
    edges = set()
    for line in mermaid:
        groups = [[node.strip() for node in group.split("&")] for group in line.split("-->")]
        for sources, targets in zip(groups, groups[1:]):
            edges.update(itertools.product(sources, targets))
    return edges


@pytest.mark.slow
def test_the_documented_graph_is_the_one_dvc_dag_draws(fresh_copy):
    drawn = fresh_copy.shell(RUN_IN_A_FRESH_COPY[0])
    assert drawn.returncode == 0, drawn.stderr
    labels = dict(re.findall(r'^\s*(node\d+)\["(.+)"\]$', drawn.stdout, re.MULTILINE))
    arrows = re.findall(r"^\s*(node\d+)-->(node\d+)$", drawn.stdout, re.MULTILINE)
    dvc_edges = {(labels[source], labels[target]) for source, target in arrows}
    page = (PROJECT_ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    mermaid = page.split("```mermaid\n")[1].split("```")[0].splitlines()
    assert mermaid[0] == "flowchart TD"
    assert graph_edges(mermaid[1:]) == dvc_edges


@pytest.mark.slow
def test_dvc_add_versions_a_font_as_data_fonts_readme_says(fresh_copy):
    shutil.copy(MATPLOTLIB_FONTS / "cmr10.ttf", fresh_copy.path / "data/fonts/MyFont.ttf")
    added = fresh_copy.shell(RUN_IN_A_FRESH_COPY[1])
    assert added.returncode == 0, added.stderr
    assert (fresh_copy.path / "data/fonts/MyFont.ttf.dvc").is_file()
