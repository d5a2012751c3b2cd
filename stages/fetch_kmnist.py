"""Stage fetch_kmnist: the official KMNIST splits, MD5-checked, as image sets in data/raw/kmnist/."""

import shutil
import tempfile
from pathlib import Path

from glyphgen.data.kmnist import CLASS_MAP, FetchConfig, fetch_kmnist
from glyphgen.io import atomic_path, save_image_set
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

OUT = Path("data/raw/kmnist")


def main() -> None:
    config = parse_config(FetchConfig, get_section(load_params(), "fetch_kmnist"), "params.yaml:fetch_kmnist")
    with tempfile.TemporaryDirectory() as download_dir, atomic_path(OUT) as out:
        splits, class_map = fetch_kmnist(config, Path(download_dir))
        out.mkdir()
        for split, image_set in splits.items():
            save_image_set(out / f"{split}.npz", image_set)
            print(f"kmnist {split}: {len(image_set)} images")
        shutil.copyfile(class_map, out / CLASS_MAP)


if __name__ == "__main__":
    run_stage(main)
