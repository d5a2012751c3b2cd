"""`python -m glyphgen <command>`: sample, alphabet, record-fonts, timings (each a function and a parser)."""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path, write_json
from glyphgen.grids import save_png, tile, to_uint8
from glyphgen.timings import TIMINGS_DIR, load_timings, timings_table
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.device import pick_device


# Samples drawn per step: a .npy of any length grows on disk, never in memory.
CHUNK = 1024
# A PNG grid of more than 100 x 100 samples is no picture to look at (and is built in memory): .npy holds more.
MAX_GRID_SAMPLES = 10_000


def sample(args: argparse.Namespace) -> None:
    """Draw N seeded samples from a trained model; write N x H x W uint8 .npy, or a PNG grid."""
    if args.n < 1:
        raise GlyphgenError(f"-n: expected a positive number of samples, got {args.n}")
    output = Path(args.output)
    if output.suffix not in (".npy", ".png"):
        raise GlyphgenError(f"{output}: expected a file name ending in .npy or .png")
    if output.suffix == ".png" and args.n > MAX_GRID_SAMPLES:
        raise GlyphgenError(f"-n: a PNG grid holds at most {MAX_GRID_SAMPLES} samples, got {args.n} (write a .npy "
                            f"for more)")
    model = load_generator(args.model_dir, pick_device(args.device))
    label = None if args.label is None else class_index(model, args.label)
    chunks = sample_chunks(model, args.n, args.seed, label)
    if output.suffix == ".png":
        save_png(output, tile(np.concatenate(list(chunks)), columns=math.ceil(math.sqrt(args.n))), scale=2)
    else:
        write_npy_chunks(output, (args.n, model.image_size, model.image_size), chunks)
    print(f"wrote {args.n} samples to {output}")


def sample_chunks(model, n: int, seed: int, label: int | None = None) -> Iterator[np.ndarray]:
    """n samples in uint8 chunks from one seeded generator (for n <= CHUNK, `model.draw(n, seed)`'s)."""
    rng = torch.Generator(model.device).manual_seed(seed)
    model.eval()
    with torch.no_grad():
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            if label is None:
                yield to_uint8(model.sample(count, rng))
            else:
                yield to_uint8(model.sample_categories(torch.full((count,), label), rng))


def write_npy_chunks(path: Path, shape: tuple[int, ...], chunks: Iterable[np.ndarray]) -> None:
    """A uint8 .npy written chunk by chunk, atomically, once the disk has room."""
    size = math.prod(shape)
    folder = next(folder for folder in [path.absolute().parent, *path.absolute().parents] if folder.exists())
    free = shutil.disk_usage(folder).free
    if size > free:
        raise GlyphgenError(f"-n: {shape[0]} samples of {shape[1]}x{shape[2]} pixels need {size / 1e9:.1f} GB, "
                            f"and {folder} has {free / 1e9:.1f} GB free")
    written = 0
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)
        for chunk in chunks:
            handle.write(np.ascontiguousarray(chunk, dtype=np.uint8).tobytes())
            written += chunk.size
        if written != size:  # a programming error, but a short file must never look complete
            raise GlyphgenError(f"{path}: wrote {written} of {size} pixels")


def class_index(model, label: str) -> int:
    """The class a --label names: its name in the data set's class map (A, お), else its index."""
    if not model.conditional:
        raise GlyphgenError(f"--label: {model.name} is unconditional (it cannot draw a chosen class)")
    if label in model.class_names:
        return model.class_names.index(label)
    if label.isascii() and label.isdigit() and int(label) < model.num_classes:  # not '²', which isdigit() too
        return int(label)
    shown = " ".join(model.class_names[:12]) + (" ..." if model.num_classes > 12 else "")
    raise GlyphgenError(f"--label: expected a class name ({shown}) or an index below {model.num_classes}, "
                        f"got {label!r}")


def alphabet(args: argparse.Namespace) -> None:
    """Every class of a conditional model drawn in the style of one glyph image (the image in the first column)."""
    from glyphgen.data.convert import normalise_glyph, read_gray  # only this command reads images
    from glyphgen.rendering.panels import alphabet_grid

    if Path(args.output).suffix != ".png":
        raise GlyphgenError(f"{args.output}: expected a file name ending in .png")
    model = load_generator(args.model_dir, pick_device(args.device))
    if not (model.conditional and hasattr(model, "encode_style")):
        raise GlyphgenError(f"{args.model_dir}: {model.name} has no style encoder (alphabet needs a model that draws "
                            f"chosen classes in a style read from an image, such as aae_supervised)")
    gray = read_gray(args.style)
    if gray.min() == gray.max():
        raise GlyphgenError(f"{args.style}: a blank image (expected one glyph, dark on light or light on dark)")
    glyph = torch.from_numpy(normalise_glyph(gray, model.image_size)).float().div(255)[None, None]
    save_png(args.output, alphabet_grid(model, glyph), scale=2)
    print(f"wrote {model.num_classes} classes in the style of {args.style} to {args.output}")


def record_fonts(args: argparse.Namespace) -> None:
    """Record the installed matplotlib's bundled fonts (name -> MD5): the render_glyphs stage depends on it."""
    from glyphgen.data.fonts import matplotlib_font_hashes  # only this command needs matplotlib and fontTools

    fonts = matplotlib_font_hashes()
    write_json(args.output, fonts)
    print(f"recorded {len(fonts)} fonts in {args.output}")


def timings(args: argparse.Namespace) -> None:
    """Print the per-stage wall-time table of the last pipeline run; optionally write it as Markdown."""
    table = timings_table(load_timings(args.timings_dir), since=args.since)
    print(table, end="")
    if args.output:
        with atomic_path(args.output) as tmp:
            tmp.write_text("# Stage timings\n\n" + table, encoding="utf-8")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m glyphgen", description="glyphgen command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)

    sampler = commands.add_parser("sample", help="draw samples from a trained model")
    sampler.add_argument("model_dir", help="models/<dataset>/<model> (or its model.pt)")
    sampler.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    sampler.add_argument("-o", "--output", required=True, help="out.npy (N x H x W uint8) or out.png (a grid)")
    sampler.add_argument("--seed", type=int, default=0)
    sampler.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default auto)")
    sampler.add_argument("--label", help="draw this class only: its name (A) or index (conditional models)")
    sampler.set_defaults(run=sample)

    styler = commands.add_parser("alphabet", help="every class drawn in the style of one glyph image")
    styler.add_argument("model_dir", help="models/<dataset>/<conditional model> (or its model.pt)")
    styler.add_argument("--style", required=True, help="an image of one glyph: any size, either polarity")
    styler.add_argument("-o", "--output", required=True, help="out.png: the glyph, then every class in its style")
    styler.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default auto)")
    styler.set_defaults(run=alphabet)

    recorder = commands.add_parser("record-fonts", help="record matplotlib's bundled fonts for render_glyphs")
    recorder.add_argument("-o", "--output", default="data/matplotlib_fonts.json",
                          help="the record dvc.yaml tracks (default data/matplotlib_fonts.json)")
    recorder.set_defaults(run=record_fonts)


    timer = commands.add_parser("timings", help="per-stage wall times of the pipeline, from the stages' records")
    timer.add_argument("--since", type=float, help="Unix time the run started: stages finished before count as skipped")
    timer.add_argument("--timings-dir", default=str(TIMINGS_DIR), help="where stages record (default timings/)")
    timer.add_argument("-o", "--output", help="also write the table to this Markdown file (reports/timings.md)")
    timer.set_defaults(run=timings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except GlyphgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
