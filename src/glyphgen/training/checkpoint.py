"""Checkpoints: one file that rebuilds a trained generator on its own, and optionally resumes its training.

A checkpoint is a plain dict of tensors and primitives, so it loads with torch.load(weights_only=True):
  model, config (the model's dataclass as a dict), image_size, num_classes, state_dict, class_names,
  and, in resumable checkpoints only, training: {epoch, step, run, optimizers, rng}.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path
from glyphgen.models import MODEL_NAMES, Generator, model_class
from glyphgen.training.device import place

CHECKPOINT_NAME = "model.pt"
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
