"""Checkpoints: one file that rebuilds a trained generator on its own, and optionally resumes its training.

A checkpoint is a plain dict of tensors and primitives, so it loads with torch.load(weights_only=True):
  model, config (the model's dataclass as a dict), image_size, num_classes, state_dict, class_names,
  and, in resumable checkpoints only, training: {epoch, step, seconds, run, optimizers, rng}.
A run resumes only when its `run` (params, data hash, code hash) is the one it began with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path
from glyphgen.models import MODEL_NAMES, Generator, model_class
from glyphgen.training.device import place

CHECKPOINT_NAME = "model.pt"
RESUME_NAME = "resume.pt"
CHECKPOINT_KEYS = ("model", "config", "image_size", "num_classes", "state_dict")


def save_checkpoint(path: str | Path, model: Generator, training: dict[str, Any] | None = None) -> None:
    """Write atomically, so a run killed mid-write keeps its previous checkpoint intact."""
    checkpoint = {
        "model": model.name,
        "config": dataclasses.asdict(model.config),
        "image_size": model.image_size,
        "num_classes": model.num_classes,
        "state_dict": model.state_dict(),
        "class_names": model.class_names,
    }
    if training is not None:
        checkpoint["training"] = training
    # Through a file handle: given a path, torch.save names the archive's inner folder after the (random)
    # temporary file, and the same weights would never give the same bytes (nor the same DVC hash).
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(checkpoint, handle)


def read_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise GlyphgenError(f"{path}: not a readable glyphgen checkpoint ({type(exc).__name__})") from None
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint] if isinstance(checkpoint, dict) else ["all"]
    if missing:
        raise GlyphgenError(f"{path}: not a glyphgen checkpoint (missing {', '.join(missing)})")
    return checkpoint


def generator_from_checkpoint(checkpoint: dict[str, Any], device: torch.device | str, where: str) -> Generator:
    generator_class = model_class(checkpoint.get("model"), where)
    config = generator_class.config_from_params("default", checkpoint["config"], f"{where}:config")
    model = generator_class(config, checkpoint["image_size"], checkpoint["num_classes"])
    model.class_names = checkpoint.get("class_names", model.class_names)  # older checkpoints have none
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:  # torch lists every missing, unexpected and mis-shaped tensor, one per line
        problems = [line.strip().replace("torch.Size(", "(") for line in str(exc).splitlines()[1:]]
        raise GlyphgenError(f"{where}: its weights do not fit the {checkpoint['model']} its config describes "
                            f"({problems[0]}{f'; {len(problems)} problems in all' if len(problems) > 1 else ''})"
                            ) from None
    return place(model, device)


def load_generator(model_dir_or_file: str | Path, device: torch.device | str = "cpu",
                   image_size: int | None = None) -> Generator:
    """Rebuild a trained generator from models/<dataset>/<model>/ (or its model.pt), in eval mode on `device`.

    A checkpoint is not trusted by its own description: in a folder named after a model (the pipeline's layout),
    it must be that model's; `image_size`, given by a caller that will feed it a data set's images, must be the
    size it was trained at (else the first matrix product fails, far from the cause)."""
    checkpoint = read_checkpoint(model_dir_or_file, device)
    where = str(model_dir_or_file)
    folder = Path(model_dir_or_file)
    folder = folder.parent if folder.name == CHECKPOINT_NAME else folder
    if folder.name in MODEL_NAMES and checkpoint["model"] != folder.name:
        raise GlyphgenError(f"{where}: holds a checkpoint of {checkpoint['model']!r}, not of {folder.name!r} as its "
                            f"folder says (copied from another run?)")
    if image_size is not None and checkpoint["image_size"] != image_size:
        raise GlyphgenError(f"{where}: trained on {checkpoint['image_size']}px images, but the data set's are "
                            f"{image_size}px (retrain it on this data set)")
    return generator_from_checkpoint(checkpoint, device, where).eval()


def run_identity(model_name: str, model_config: Any, epochs: int, seed: int, images: Any, labels: Any,
                 lr_schedule: str, world_size: int) -> str:
    """What a run is, as one string: a checkpoint resumes only the run it was written by."""
    run = {"model": model_name, "config": dataclasses.asdict(model_config), "epochs": epochs, "seed": seed,
           "data": data_version(images, labels), "code": code_version(model_name), "lr_schedule": lr_schedule}
    if world_size > 1:  # a run resumes only on as many ranks as it began with
        run["world_size"] = world_size
    return json.dumps(run, sort_keys=True)


def data_version(images: Any, labels: Any) -> str:
    """A hash of the training images and labels (numpy arrays)."""
    digest = hashlib.sha256(images.tobytes())
    digest.update(labels.tobytes())
    return digest.hexdigest()


def code_version(model_name: str) -> str:
    """A hash of the code that computes a run's weights: the model's file, models/shared/ and training/."""
    model_file = Path(inspect.getsourcefile(model_class(model_name)))
    shared, training = model_file.parent / "shared", Path(__file__).parent
    digest = hashlib.sha256()
    for path in [model_file, *sorted(shared.glob("*.py")), *sorted(training.glob("*.py"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def training_state(epoch: int, step: int, seconds: float, run: str, optimizers: dict[str, torch.optim.Optimizer],
                   data_order: torch.Generator, rank_rng: list[dict[str, torch.Tensor]] | None) -> dict[str, Any]:
    """What a resumed run needs besides the weights; `rank_rng`: every rank's RNG states under torchrun."""
    rng = {"torch": torch.get_rng_state(), "data_order": data_order.get_state()}
    if rank_rng is not None:
        rng["ranks"] = rank_rng
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {"epoch": epoch, "step": step, "seconds": seconds, "run": run, "rng": rng,
            "optimizers": {name: optimizer.state_dict() for name, optimizer in optimizers.items()}}


def read_resume_state(path: Path) -> dict[str, Any] | None:
    """The resumable checkpoint at `path`, or None; an unreadable one (a disk filled mid-write) is discarded
    with a warning rather than blocking training until someone deletes it."""
    if not path.exists():
        return None
    try:
        checkpoint = read_checkpoint(path, "cpu")
        if "run" not in checkpoint.get("training", {}):
            raise GlyphgenError(f"{path}: a checkpoint without training state")
    except GlyphgenError as exc:
        print(f"warning: {exc}; discarding it and starting afresh", file=sys.stderr)
        return None
    return checkpoint


def resume(checkpoint: dict[str, Any] | None, run: str, work_dir: Path, model: Generator,
           optimizers: dict[str, torch.optim.Optimizer], data_order: torch.Generator, rank: int = 0,
           is_main: bool = True) -> tuple[int, int, float]:
    """Restore `checkpoint` when it belongs to this run; return (epoch, step, seconds) done. Otherwise empty
    the work folder (rank 0 alone touches it) and start afresh."""
    if checkpoint is not None:
        training = checkpoint["training"]
        if training["run"] == run:
            model.load_state_dict(checkpoint["state_dict"])
            for name, optimizer in optimizers.items():
                optimizer.load_state_dict(training["optimizers"][name])
            restore_rng(training["rng"], rank)
            data_order.set_state(training["rng"]["data_order"])
            if is_main:
                forget_logs_after(work_dir / "live", training["step"])
                print(f"resuming {work_dir} from epoch {training['epoch']} (step {training['step']})")
            return training["epoch"], training["step"], training["seconds"]
        before, now = json.loads(training["run"]), json.loads(run)
        changed = ", ".join(key for key in sorted(now) if before.get(key) != now[key])
        if is_main:
            print(f"{work_dir}: changed since the interrupted run ({changed}); starting afresh")
    if is_main:
        if work_dir.exists():
            shutil.rmtree(work_dir)
        work_dir.mkdir(parents=True)
    return 0, 0, 0.0


def restore_rng(rng: dict[str, Any], rank: int) -> None:
    if "ranks" in rng:  # a distributed run: this rank's own noise, on the CPU and on its GPU
        own = rng["ranks"][rank]
        torch.set_rng_state(own["torch"])
        if "cuda" in own:
            torch.cuda.set_rng_state(own["cuda"])
        return
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def forget_logs_after(live_dir: Path, step: int) -> None:
    """Drop the dvclive rows logged after the checkpoint, which the resumed run logs again. dvclive writes in
    place, so a killed run may leave a row cut short: keep each history's whole rows up to the first that is
    cut or past `step`, and drop an unreadable summary, which the next read-back writes whole again."""
    for history in (live_dir / "plots" / "metrics").rglob("*.tsv"):
        header, *rows, cut = history.read_text(encoding="utf-8").split("\n")  # `cut`: a row without its newline
        columns = header.split("\t")
        kept = [header]
        for row in rows:
            cells = row.split("\t")
            if len(cells) != len(columns) or not all(cells) or int(float(cells[columns.index("step")])) > step:
                break
            kept.append(row)
        history.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    summary = live_dir / "metrics.json"
    try:
        json.loads(summary.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except json.JSONDecodeError:
        summary.unlink()
