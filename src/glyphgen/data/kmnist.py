"""Fetch the official KMNIST files, MD5-checked. Both official formats (.npz, gzipped IDX) are read, so a test
can prove they agree."""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import shutil
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet, atomic_path

MIRROR_ENV = "GLYPHGEN_KMNIST_MIRROR"
CLASS_MAP = "kmnist_classmap.csv"
IMAGE_SIZE = 28  # the official images' side; a model on KMNIST must take it (glyphgen.check_params)

# From the publisher (http://codh.rois.ac.jp/kmnist/), also in the shared mirror's MD5SUMS.
OFFICIAL_MD5 = {
    "kmnist-train-imgs.npz": "a183fbc01ed9a345513b145673d3d0bb",
    "kmnist-train-labels.npz": "b0e1d240e8afec72b50437fc3bc5908a",
    "kmnist-test-imgs.npz": "dace6de62ca8b90843cc45366337d02e",
    "kmnist-test-labels.npz": "3ae489a79983d0fe386152684e3b5412",
    "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
    "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
    "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
    "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    CLASS_MAP: "899202f6e8dc29a321ac210a03d0f2f1",
}

SPLIT_FILES = {
    "npz": {"train": ("kmnist-train-imgs.npz", "kmnist-train-labels.npz"),
            "test": ("kmnist-test-imgs.npz", "kmnist-test-labels.npz")},
    "idx": {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")},
}

IDX_IMAGES_MAGIC = 0x0803  # unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 0x0801  # unsigned bytes, 1 dimension


@dataclass
class FetchConfig:
    url: str = "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"
    mirror: str = ""
    format: Literal["npz", "idx"] = "npz"
    retries: int = 3


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_md5(path: Path, name: str) -> None:
    actual = md5sum(path)
    if actual != OFFICIAL_MD5[name]:
        raise GlyphgenError(f"{path}: MD5 {actual} does not match the official {OFFICIAL_MD5[name]} for {name}")


def mirror_folder(config_mirror: str) -> Path | None:
    mirror = os.environ.get(MIRROR_ENV) or config_mirror
    if not mirror:
        return None
    if mirror.startswith("file://"):
        mirror = urllib.parse.unquote(urllib.parse.urlparse(mirror).path)
    folder = Path(mirror)
    if not folder.is_dir():
        raise GlyphgenError(
            f"KMNIST mirror {folder} (from {MIRROR_ENV} or params.yaml:fetch_kmnist.mirror) is not a folder")
    return folder


def download(url: str, dest: Path, name: str, retries: int) -> None:
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(dest) as tmp:
                with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
                check_md5(tmp, name)
            return
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries:
                reason = getattr(exc, "reason", exc)
                raise GlyphgenError(
                    f"could not download {url} ({reason}); without network, set {MIRROR_ENV} or "
                    f"params.yaml:fetch_kmnist.mirror to a folder holding the official KMNIST files") from None
            time.sleep(2 ** attempt)


def fetch(name: str, config: FetchConfig, download_dir: Path) -> Path:
    mirror = mirror_folder(config.mirror)
    if mirror is None:
        path = download_dir / name
        download(urllib.parse.urljoin(config.url.rstrip("/") + "/", name), path, name, config.retries)
        return path
    path = mirror / name
    if not path.is_file():
        raise GlyphgenError(f"{path}: missing from the KMNIST mirror")
    check_md5(path, name)
    return path


def read_npz_array(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return archive["arr_0"]
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        raise GlyphgenError(f"{path}: unreadable or truncated npz ({exc})") from None


def read_idx(path: Path, magic: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise GlyphgenError(f"{path}: unreadable or truncated gzip ({exc})") from None
    if len(data) < 4 or struct.unpack(">I", data[:4])[0] != magic:
        found = data[:4].hex() if len(data) >= 4 else "nothing"
        raise GlyphgenError(f"{path}: expected IDX magic number {magic:#06x}, found {found}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise GlyphgenError(f"{path}: IDX header truncated")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != int(np.prod(shape)):
        raise GlyphgenError(f"{path}: IDX dims {shape} need {int(np.prod(shape))} bytes, found {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_class_names(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if [int(row["index"]) for row in rows] != list(range(len(rows))):
        raise GlyphgenError(f"{path}: expected class indices 0..{len(rows) - 1} in order")
    return [row["char"] for row in rows]


def read_split(images_path: Path, labels_path: Path, fmt: str, class_names: list[str]) -> ImageSet:
    if fmt == "npz":
        images, labels = read_npz_array(images_path), read_npz_array(labels_path)
    else:
        images, labels = read_idx(images_path, IDX_IMAGES_MAGIC), read_idx(labels_path, IDX_LABELS_MAGIC)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise GlyphgenError(f"{images_path}: expected uint8 N x {IMAGE_SIZE} x {IMAGE_SIZE} images, got {images.dtype} "
                            f"{images.shape}")
    if labels.shape != (len(images),):
        raise GlyphgenError(f"{labels_path}: expected {len(images)} labels, got shape {labels.shape}")
    return ImageSet(np.ascontiguousarray(images), labels.astype(np.int64), class_names)


def fetch_split(split: str, config: FetchConfig, download_dir: Path, class_names: list[str]) -> ImageSet:
    images_name, labels_name = SPLIT_FILES[config.format][split]
    images_path = fetch(images_name, config, download_dir)
    labels_path = fetch(labels_name, config, download_dir)
    return read_split(images_path, labels_path, config.format, class_names)


def fetch_kmnist(config: FetchConfig, download_dir: Path) -> tuple[dict[str, ImageSet], Path]:
    class_map = fetch(CLASS_MAP, config, download_dir)
    class_names = read_class_names(class_map)
    splits = {split: fetch_split(split, config, download_dir, class_names) for split in SPLIT_FILES[config.format]}
    return splits, class_map
