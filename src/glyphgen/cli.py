"""`python -m glyphgen <command>`: the user-facing commands. Add one by writing a function that takes the
parsed arguments and registering its parser in `build_parser`."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path, write_json
from glyphgen.rendering.grids import save_png, tile, to_uint8
from glyphgen.timings import TIMINGS_DIR, load_timings, timings_table
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.device import pick_device


def sample(args: argparse.Namespace) -> None:
    """Draw N seeded samples from a trained model; write N x H x W uint8 .npy, or a PNG grid."""
    if args.n < 1:
        raise GlyphgenError(f"-n: expected a positive number of samples, got {args.n}")
    output = Path(args.output)
    if output.suffix not in (".npy", ".png"):
        raise GlyphgenError(f"{output}: expected a file name ending in .npy or .png")
    model = load_generator(args.model_dir, pick_device(args.device))
    images = to_uint8(model.draw(args.n, args.seed))
    if output.suffix == ".png":
        save_png(output, tile(images, columns=math.ceil(math.sqrt(args.n))), scale=2)
    else:
        with atomic_path(output) as tmp, open(tmp, "wb") as handle:
            np.save(handle, images)
    print(f"wrote {args.n} samples to {output}")


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
    sampler.set_defaults(run=sample)

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
