"""Write the comparison of the workspace with a base revision as Markdown and images (scripts/retrain.sh runs it).

    python scripts/compare_revisions.py BASE_REV OUT_DIR [--remote NAME]

OUT_DIR/report.md holds `dvc params diff`, `dvc metrics diff --md`, the report's table (reports/metrics.md) and
every sample grid that changed, the base's beside the workspace's (copied to OUT_DIR/grids/ from `dvc plots diff`).
The base revision's metrics and plots are fetched from the DVC remote first: a fresh CI clone has only its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from dvc.exceptions import DvcException
from dvc.repo import Repo

RENDERS = "reports/renders"


def dvc(*args: str) -> str:
    """Run a dvc command; callers put revisions after `--`, so one that starts with `-` is never an option."""
    return subprocess.run(["dvc", *args], check=True, capture_output=True, text=True).stdout


def changed_grids(base: str, out_dir: Path) -> list[tuple[str, str | None, str]]:
    """(run, base grid or None when the run is new, workspace grid) of every samples.png that differs, as paths
    relative to out_dir."""
    rows = []
    with tempfile.TemporaryDirectory() as plots:
        shown = json.loads(dvc("plots", "diff", "--targets", RENDERS, "--json", "-o", plots, "--", base))["data"]
        for path, images in sorted(shown.items()):
            if not path.endswith("/samples.png"):
                continue
            by_revision = {image["revisions"][0]: Path(image["url"]) for image in images}
            new, old = by_revision.get("workspace"), by_revision.get(base)
            if new is None or (old is not None and old.read_bytes() == new.read_bytes()):
                continue
            run = "/".join(Path(path).parts[2:4])  # reports/renders/<dataset>/<model>/samples.png
            copied = []
            for revision, image in (("base", old), ("new", new)):
                if image is not None:
                    target = out_dir / "grids" / f"{run.replace('/', '-')}-{revision}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(image, target)
                    copied.append(target.relative_to(out_dir).as_posix())
            rows.append((run, copied[0] if old is not None else None, copied[-1]))
    return rows


def report(base: str, out_dir: Path) -> str:
    sections = [f"# Retraining: this revision against {base}",
                "## Params changed", dvc("params", "diff", "--md", "--", base) or "None.",
                "## Metrics changed", dvc("metrics", "diff", "--md", "--", base) or "None."]
    table = Path("reports/metrics.md")
    if table.exists():
        sections += ["## The report's table", table.read_text(encoding="utf-8")]
    rows = changed_grids(base, out_dir)
    sections.append("## Sample grids that changed")
    if rows:
        lines = [f"| run | {base} | this revision |", "|---|---|---|"]
        lines += [f"| {run} | {f'![{run} before]({old})' if old else '(new)'} | ![{run} after]({new}) |"
                  for run, old, new in rows]
        sections.append("\n".join(lines))
    else:
        sections.append("None.")
    return "\n\n".join(section.strip() for section in sections) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--remote")
    args = parser.parse_args()
    if args.base.startswith("-"):
        parser.error(f"BASE_REV: expected a revision, got {args.base!r}")
    try:  # the base's metrics and plots, for the diffs below (`dvc fetch` has no --rev)
        with Repo(".") as repo:
            repo.fetch(revs=[args.base], types=["metrics", "plots"], remote=args.remote)
    except (DvcException, OSError) as exc:  # never pushed, or a remote this job cannot read: that side stays empty
        print(f"warning: cannot fetch the outputs of {args.base} ({exc})")
    if args.out_dir.exists():
        shutil.rmtree(args.out_dir)
    args.out_dir.mkdir(parents=True)
    text = report(args.base, args.out_dir)
    (args.out_dir / "report.md").write_text(text, encoding="utf-8")
    print(f"wrote {args.out_dir / 'report.md'}")


if __name__ == "__main__":
    main()
