"""Normalise glyph images MNIST-style: white strokes on black, cropped to the ink, fitted into a box of
image_size * 20/28 keeping the aspect ratio, then shifted so the centre of mass sits in the middle."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from glyphgen.data.glyph_folders import GlyphFile
from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet
from glyphgen.params import check_range

MNIST_BOX_RATIO = 20 / 28  # MNIST fits digits into 20x20 inside 28x28
INK_THRESHOLD = 0.1  # share of the strongest ink below which pixels are background when cropping


@dataclass
class ConvertConfig:
    image_size: int = 64
    glyph_dirs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_range(self.image_size, 16, 256, "params.yaml:convert_glyphs.image_size")


def white_on_black(gray: np.ndarray) -> np.ndarray:
    """Whatever the polarity or paper tone: the background is the border's median, which strokes touching the
    edge cannot swing."""
    gray = gray.astype(np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = np.abs(gray - np.median(border))
    return ink / ink.max()


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def centre_of_mass_shift(image: np.ndarray) -> tuple[int, int]:
    total = image.sum()
    rows, cols = np.indices(image.shape)
    centre = (np.array(image.shape) - 1) / 2
    mass = np.array([(rows * image).sum(), (cols * image).sum()]) / total
    return tuple(np.round(centre - mass).astype(int))


def shift(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(rows, 0):h + min(rows, 0), max(cols, 0):w + min(cols, 0)] = \
        image[max(-rows, 0):h - max(rows, 0), max(-cols, 0):w - max(cols, 0)]
    return out


def normalise_glyph(gray: np.ndarray, image_size: int) -> np.ndarray:
    ink = crop_to_ink(white_on_black(gray))
    box = round(image_size * MNIST_BOX_RATIO)
    scale = box / max(ink.shape)
    height, width = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    fitted = np.asarray(Image.fromarray(ink).resize((width, height), Image.Resampling.LANCZOS)).clip(0, 1)
    canvas = np.zeros((image_size, image_size), np.float32)
    top, left = (image_size - height) // 2, (image_size - width) // 2
    canvas[top:top + height, left:left + width] = fitted
    canvas = shift(canvas, *centre_of_mass_shift(canvas))
    return np.round(canvas * 255).astype(np.uint8)


def read_gray(path) -> np.ndarray:
    """Transparent parts count as white paper (specimens often have no fill). Images past PIL's decompression-bomb
    limit are refused: no glyph is that large, and decoding one could take gigabytes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                    paper = Image.new("RGBA", image.size, "white")
                    image = Image.alpha_composite(paper, image.convert("RGBA"))
                return np.asarray(image.convert("L"))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise GlyphgenError(f"{path}: more than {Image.MAX_IMAGE_PIXELS} pixels, too large for a glyph image "
                            f"(PIL's decompression-bomb limit)") from None
    except OSError as exc:
        raise GlyphgenError(f"{path}: not a readable image ({exc})") from None


def convert_glyphs(files: list[GlyphFile], image_size: int) -> ImageSet:
    """extras: `font`, `family` and `source_glyph` (the row's own index, kept by augmentations)."""
    class_names = sorted({glyph.character for glyph in files})
    label_of = {char: label for label, char in enumerate(class_names)}
    images = []
    for glyph in files:
        gray = read_gray(glyph.path)
        if np.ptp(gray) == 0:
            raise GlyphgenError(f"{glyph.path}: blank image (a single grey level, no ink)")
        images.append(normalise_glyph(gray, image_size))
    return ImageSet(np.stack(images), np.array([label_of[glyph.character] for glyph in files]), class_names,
                    {"font": np.array([glyph.source for glyph in files]),
                     "family": np.array([glyph.family for glyph in files]), "source_glyph": np.arange(len(files))})
