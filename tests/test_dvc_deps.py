"""dvc.yaml lists what every stage reads, so DVC re-runs a stage when, and only when, one of those changes.

The code a stage runs is found by walking `glyphgen` imports from its script (with `ast`, nothing is
executed): the modules it imports, their imports in turn, and the packages' `__init__.py` files on the way.
A model is imported lazily by name (`glyphgen.models.model_class`), so a stage instance whose command names
a model also runs that model's file.
"""

from __future__ import annotations

import ast
import dataclasses
from functools import cache
from pathlib import Path

import pytest
import yaml
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

from glyphgen.data.augment import AugmentConfig
from glyphgen.data.fonts import MATPLOTLIB_FONTS_RECORD
from glyphgen.data.kmnist import FetchConfig
from glyphgen.models import MODEL_NAMES
from glyphgen.training.loop import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def module_file(module: str) -> Path | None:
    """The source file of a `glyphgen` module or package, or None for a name that is not one."""
    path = SRC.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def runs_code(init_file: Path) -> bool:
    """Whether importing a package runs anything that could change a result: a docstring and `__version__`
    cannot, so an empty or metadata-only `__init__.py` need not be a dependency."""
    for node in ast.parse(init_file.read_text(encoding="utf-8")).body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        version = isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__version__"]
        if not (docstring or version):
            return True
    return False


def imported_modules(path: Path) -> set[str]:
    """The `glyphgen` modules a file imports, with their parent packages (importing a.b runs a/__init__.py)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative imports are not walked; import glyphgen.* absolutely"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from package import module`
    modules = set()
    for name in names:
        parts = name.split(".")
        modules.update(".".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return {module for module in modules if module.split(".")[0] == "glyphgen" and module_file(module)}


@cache
def files_run(script: str, lazy_modules: tuple[str, ...] = ()) -> frozenset[str]:
    """Every glyphgen source file (relative to the repository) that `script` and `lazy_modules` run."""
    seen: set[Path] = set()
    pending = [ROOT / script, *(module_file(module) for module in lazy_modules)]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        pending.extend(module_file(module) for module in imported_modules(path))
    return frozenset(path.relative_to(ROOT).as_posix() for path in seen
                     if path.name != "__init__.py" or runs_code(path))


@dataclasses.dataclass
class Stage:
    name: str
    script: str
    model: str | None  # the model a matrix instance trains or loads, named in its command
    deps: list[str]
    params: set[str]


@cache
def stages() -> tuple[Stage, ...]:
    """Every stage instance of dvc.yaml as DVC resolves it (matrix and foreach expanded from params.yaml)."""
    found = []
    with Repo(str(ROOT)) as repo:
        for stage in repo.index.stages:
            words = stage.cmd.split()
            script = next(word for word in words if word.endswith(".py"))
            models = [word for word in words if word in MODEL_NAMES]
            found.append(Stage(stage.addressing, script, models[0] if models else None,
                               [d.def_path for d in stage.deps if not isinstance(d, ParamsDependency)],
                               {key for d in stage.deps if isinstance(d, ParamsDependency) for key in d.params}))
    return tuple(found)


def stage_named(name: str) -> Stage:
    return next(stage for stage in stages() if stage.name == name)


def code_run_by(stage: Stage) -> frozenset[str]:
    lazy = (f"glyphgen.models.{stage.model}",) if stage.model else ()
    return files_run(stage.script, lazy)


def covers(deps: list[str], path: str) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def test_the_walk_finds_imports_through_modules_and_the_lazy_registry():
    files = files_run("stages/train.py", ("glyphgen.models.vae",))
    assert {"stages/train.py", "src/glyphgen/io.py", "src/glyphgen/training/device.py",
            "src/glyphgen/models/__init__.py", "src/glyphgen/models/vae.py",
            "src/glyphgen/models/shared/blocks.py"} <= files
    assert "src/glyphgen/models/gan.py" not in files and "src/glyphgen/__init__.py" not in files
    # evaluate reaches training/batches.py only through the judges
    assert "src/glyphgen/training/batches.py" in files_run("stages/evaluate.py")


@pytest.mark.parametrize("stage", stages(), ids=lambda stage: stage.name)
def test_every_file_a_stage_runs_is_one_of_its_dependencies(stage):
    missing = sorted(path for path in code_run_by(stage) if not covers(stage.deps, path))
    assert not missing, f"dvc.yaml: {stage.name} runs {missing} without listing them (or a folder above) in deps"


@pytest.mark.parametrize("stage", [stage for stage in stages() if stage.model], ids=lambda stage: stage.name)
def test_a_stage_of_one_model_depends_on_no_other_models_code(stage):
    others = [f"src/glyphgen/models/{name}.py" for name in MODEL_NAMES if name != stage.model]
    assert not [path for path in others if covers(stage.deps, path)], f"{stage.name}: {stage.deps}"


def test_each_training_run_depends_on_its_own_params_section_only():
    for stage in stages():
        if stage.script == "stages/train.py":
            dataset, model = stage.name.split("@")[1].split("-")
            assert {key for key in stage.params if key.startswith("models")} == {f"models.{model}.{dataset}"}


def section_keys(section: str) -> set[str]:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    return {f"{section}.{key}" for key in params[section]}


@pytest.mark.parametrize("stage_name, section, config, cannot_change_results", [
    ("fetch_kmnist", "fetch_kmnist", FetchConfig, {"url", "mirror", "retries"}),  # the files are MD5-pinned
    ("augment_glyphs", "augment_glyphs", AugmentConfig, {"workers"}),  # each image is seeded from (seed, index)
    ("train@kmnist-vae", "train", TrainConfig, {"work_dir"}),  # where an unfinished run waits
])
def test_params_that_cannot_change_a_result_are_left_out(stage_name, section, config, cannot_change_results):
    fields = {f"{section}.{field.name}" for field in dataclasses.fields(config)}
    assert section_keys(section) == fields  # params.yaml writes every key, so a new key shows up here
    listed = {key for key in stage_named(stage_name).params if key.split(".")[0] == section}
    assert listed == fields - {f"{section}.{key}" for key in cannot_change_results}


def test_render_glyphs_depends_on_the_record_of_matplotlibs_fonts():
    # The fonts themselves sit in the installed matplotlib, where DVC cannot look (see check_matplotlib_fonts).
    assert MATPLOTLIB_FONTS_RECORD.as_posix() in stage_named("render_glyphs").deps
