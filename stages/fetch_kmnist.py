"""Stage fetch_kmnist: the official KMNIST splits, MD5-checked, as image sets in data/raw/kmnist/."""

import shutil
import tempfile
from pathlib import Path

from glyphgen.data.kmnist import CLASS_MAP, SPLIT_FILES, FetchConfig, fetch, fetch_split, read_class_names
from glyphgen.io import atomic_path, save_image_set
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

OUT = Path("data/raw/kmnist")


def main() -> None:
    config = parse_config(FetchConfig, get_section(load_params(), "fetch_kmnist"), "params.yaml:fetch_kmnist")
    # One split in memory at a time; the folder appears only once every file is verified and written.
    with tempfile.TemporaryDirectory() as download_dir, atomic_path(OUT) as out:
        out.mkdir()
        class_map = fetch(CLASS_MAP, config, Path(download_dir))
        shutil.copyfile(class_map, out / CLASS_MAP)
        for split in SPLIT_FILES[config.format]:
            image_set = fetch_split(split, config, Path(download_dir), read_class_names(class_map))
            save_image_set(out / f"{split}.npz", image_set)
            print(f"kmnist {split}: {len(image_set)} images")


if __name__ == "__main__":
    run_stage(main)
