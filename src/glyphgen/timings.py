"""Where a pipeline run's time goes. timings/ is no DVC output, so recording never changes what DVC caches; a
skipped stage keeps its last measurement, so the table always shows the whole pipeline's cost."""

from __future__ import annotations

import json
import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from glyphgen.io import write_json

TIMINGS_DIR = Path("timings")


@dataclass
class StageTiming:
    stage: str  # DVC's name, e.g. evaluate@kmnist-vae
    seconds: float  # wall time from process start, imports included
    user_seconds: float
    system_seconds: float
    finished: float  # Unix time
    figures: dict[str, float] = field(default_factory=dict)  # a stage's own figures, e.g. train_seconds

    @property
    def kind(self) -> str:
        return self.stage.split("@")[0]


def machine() -> str:
    """The machine a figure came from: CPU model, cores, and the vector instructions torch's kernels use (AVX2 and
    AVX-512 machines give different timings and slightly different floats)."""
    import torch  # here, not at the top: the stages that need no torch should not pay for its import

    model = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return (f"{model}, {os.cpu_count()} cores, torch {torch.__version__} with "
            f"{torch.backends.cpu.get_cpu_capability()} kernels")


def record_timing(timing: StageTiming, timings_dir: str | Path = TIMINGS_DIR) -> None:
    safe_name = re.sub(r"[^A-Za-z0-9@._-]", "_", timing.stage)
    write_json(Path(timings_dir) / f"{safe_name}.json", asdict(timing))


def load_timings(timings_dir: str | Path = TIMINGS_DIR) -> list[StageTiming]:
    timings = [StageTiming(**json.loads(path.read_text(encoding="utf-8"))) for path in Path(timings_dir).glob("*.json")]
    return sorted(timings, key=lambda timing: timing.finished)


def timings_table(timings: list[StageTiming], since: float | None = None) -> str:
    """`since`: the start of this run; stages that finished before were skipped."""
    if not timings:
        return "No stage timings recorded yet (timings/ is written by stages that `dvc repro` runs).\n"
    total = sum(timing.seconds for timing in timings)

    def when(timing: StageTiming) -> str:
        if since is None or timing.finished >= since:
            return "this run"
        return "skipped, measured " + time.strftime("%Y-%m-%d %H:%M", time.localtime(timing.finished))

    lines = ["| stage | wall s | user s | sys s | share | run |", "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {t.stage} | {t.seconds:.1f} | {t.user_seconds:.1f} | {t.system_seconds:.1f} | "
              f"{t.seconds / total:.0%} | {when(t)} |" for t in timings]
    kinds: dict[str, float] = {}
    for timing in timings:
        kinds[timing.kind] = kinds.get(timing.kind, 0.0) + timing.seconds
    lines += ["", "| stage kind | wall s | share |", "|---|---:|---:|"]
    lines += [f"| {kind} | {seconds:.1f} | {seconds / total:.0%} |"
              for kind, seconds in sorted(kinds.items(), key=lambda item: -item[1])]
    summary = f"Whole pipeline, by each stage's last measurement: {total:.0f} s over {len(timings)} stages"
    if since is not None:
        ran = [timing for timing in timings if timing.finished >= since]
        summary += f"; this run ran {len(ran)} of them ({sum(t.seconds for t in ran):.0f} s), DVC skipped the rest"
    return "\n".join([*lines, "", summary + ".", "", f"Measured on: {machine()}."]) + "\n"
