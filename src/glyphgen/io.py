"""The one on-disk layout for image sets, and atomic writes for every output the pipeline produces.

An image set is an .npz with `images` (uint8, N x H x W, white strokes on black), `labels` (int64, N) and
`class_names` (str, one per label value). Extra per-image columns (font, source glyph) may ride along.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from glyphgen.errors import GlyphgenError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    An interrupted or failing writer therefore never leaves a file (or folder) that looks complete, nor the
    folders made to hold it.
    """
    path = Path(path)
    new_folders = [folder for folder in path.parents if not folder.exists()]  # innermost first
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # the writer creates it (as a file or a folder)
    written = False
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
        written = True
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        for folder in [] if written else new_folders:
            with contextlib.suppress(OSError):  # not empty: another output is in it
                folder.rmdir()


@contextlib.contextmanager
def atomic_paths(*paths: str | Path) -> Iterator[list[Path]]:
    """atomic_path for several outputs of one stage: none of them appears unless the whole block succeeds."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(path)) for path in paths]


def write_json(path: str | Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@dataclass
class ImageSet:
    images: np.ndarray  # uint8, N x H x W, white strokes on black
    labels: np.ndarray  # int64, N
    class_names: list[str]
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # per-image columns, length N each

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 3:
            raise GlyphgenError(f"images: expected uint8 N x H x W, got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise GlyphgenError(f"labels: expected shape ({len(self.images)},), got {self.labels.shape}")
        self.labels = self.labels.astype(np.int64, copy=False)
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise GlyphgenError(f"labels: expected values in [0, {len(self.class_names)}), got {self.labels.min()}..{self.labels.max()}")
        for name, column in self.extras.items():
            if len(column) != len(self.images):
                raise GlyphgenError(f"{name}: expected {len(self.images)} entries, got {len(column)}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])

    def subset(self, index: np.ndarray) -> "ImageSet":
        return ImageSet(self.images[index], self.labels[index], list(self.class_names),
                        {name: column[index] for name, column in self.extras.items()})


def save_image_set(path: str | Path, image_set: ImageSet) -> None:
    path = Path(path)
    with atomic_path(path) as tmp:
        # np.savez appends .npz to names without it; write through a file handle to keep the temp name.
        with open(tmp, "wb") as handle:
            np.savez_compressed(
                handle,
                images=image_set.images,
                labels=image_set.labels,
                class_names=np.asarray(image_set.class_names, dtype=str),
                **{f"extra_{name}": column for name, column in image_set.extras.items()},
            )


def load_image_set(path: str | Path) -> ImageSet:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = {"images", "labels", "class_names"} - set(archive.files)
            if missing:
                raise GlyphgenError(f"{path}: not a glyphgen image set (missing {', '.join(sorted(missing))})")
            images, labels = archive["images"], archive["labels"]
            class_names = [str(name) for name in archive["class_names"]]
            extras = {key[len("extra_"):]: archive[key] for key in archive.files if key.startswith("extra_")}
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise GlyphgenError(f"{path}: unreadable or truncated npz ({exc})") from None
    return ImageSet(images, labels, class_names, extras)


def publish(moves: list[tuple[Path, Path]]) -> None:
    """Rename each finished folder onto its output, all of them or none.

    An old output is renamed aside and deleted only once every new one is in place. When a rename fails (another
    filesystem, a folder that is not writable), every rename made is undone: the old outputs are back and the
    finished folders stay where they were, so a re-run can publish them without making them again.
    """
    renamed: list[tuple[Path, Path]] = []  # (from, to) of every rename made, to undo them on failure
    try:
        for finished, destination in moves:
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.exists():
                shutil.rmtree(set_aside(destination), ignore_errors=True)  # left by a run killed right here
                os.replace(destination, set_aside(destination))
                renamed.append((destination, set_aside(destination)))
            os.replace(finished, destination)
            renamed.append((finished, destination))
    except OSError as exc:
        for source, target in reversed(renamed):
            os.replace(target, source)
        raise GlyphgenError(f"{destination}: cannot move the finished run there ({exc.strerror or exc}); it is "
                            f"kept in {finished.parent}, and re-running the stage publishes it without "
                            f"training again") from None
    for _, destination in moves:
        shutil.rmtree(set_aside(destination), ignore_errors=True)


def set_aside(output: Path) -> Path:
    """Where an old output waits while its replacement moves in."""
    return output.with_name(f".{output.name}.old")
