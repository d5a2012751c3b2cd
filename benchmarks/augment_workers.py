"""Does a worker pool pay for augment_glyphs? Times augment_images on the converted glyphs per worker count.

Usage: PYTHONPATH=src python benchmarks/augment_workers.py [n_samples]   (after `dvc repro convert_glyphs`)
"""

import sys
import time

from glyphgen.data.augment import AugmentConfig, augment_images
from glyphgen.io import load_image_set
from glyphgen.params import get_section, load_params, parse_config

raw = dict(get_section(load_params(), "augment_glyphs"))
raw["n_samples"] = int(sys.argv[1]) if len(sys.argv) > 1 else raw.get("n_samples", 10000)
sources = load_image_set("data/interim/converted/glyphs.npz").images
for workers in (1, 2, 4):
    config = parse_config(AugmentConfig, {**raw, "workers": workers}, "params.yaml:augment_glyphs")
    start = time.perf_counter()
    augment_images(sources, config)
    seconds = time.perf_counter() - start
    print(f"workers={workers}: {config.n_samples} images of {sources.shape[1]}px in {seconds:.2f} s "
          f"({config.n_samples / seconds:.0f} images/s)")
