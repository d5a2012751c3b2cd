"""glyphgen's training step against the loop the classic tutorials write, side by side in one process.

    PYTHONPATH=src python benchmarks/versus_reference.py [--models ae gan] [--seconds 1] [--repeats 5]
        [--dvc-dir /work/final] [--dvc-repeats 5] [--compile none] [--output benchmarks/RESULTS.md]

For every model of the registry, at its default params (params.yaml's `models.<model>.<dataset>`) and at its
`reference` preset, it times (a) glyphgen's own step through the training loop's code
(`glyphgen.training.step.step_function` and `loop.run_epoch`, over the data set on the device as `DeviceImages`,
with params.yaml's `train` settings) and (b) the tutorial-style loop of `benchmarks/reference_loops.py` on the
same networks, batch size, optimiser settings and number of steps. Warm-up steps are excluded; the two
loops' repeats alternate, so load from other jobs on the machine falls on both alike; each figure is the
median images/s with the min-max range of the repeats. On CUDA it adds, for the conv models, the achieved
TFLOP/s (the step's FLOPs counted by torch.utils.flop_counter) against the device's bf16 peak.

With `--dvc-dir`, it also times a no-op `dvc status` and `dvc repro` there (the folder's .venv first on
PATH, the way `make repro` runs DVC) and prints that folder's per-stage timings (`python -m glyphgen
timings`). It rewrites `--output` (benchmarks/RESULTS.md) with every table, the machine and torch version.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_loops import reference_batches, reference_optimizers, reference_step  # noqa: E402

from glyphgen.errors import GlyphgenError  # noqa: E402
from glyphgen.io import ImageSet, load_image_set  # noqa: E402
from glyphgen.models import MODEL_NAMES, model_class  # noqa: E402
from glyphgen.params import get_section, load_params, parse_config  # noqa: E402
from glyphgen.timings import load_timings, timings_table  # noqa: E402
from glyphgen.timings import machine as cpu_machine  # noqa: E402
from glyphgen.training.batches import DeviceImages  # noqa: E402
from glyphgen.training.device import pick_device, place  # noqa: E402
from glyphgen.training.loop import TrainConfig, run_epoch  # noqa: E402
from glyphgen.training.step import step_function  # noqa: E402
from glyphgen.training.settings import run_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONV_MODELS = ("conv_ae", "vae", "dcgan")
# Dense bf16 tensor-core peaks (TFLOP/s) from the vendors' data sheets, by a substring of the device name.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0,
                    "A10G": 70.0, "RTX 4090": 165.0, "V100": 125.0, "T4": 65.0}


@dataclass
class Timing:
    images_per_second: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.images_per_second)

    def __str__(self) -> str:
        low, high = min(self.images_per_second), max(self.images_per_second)
        return f"{self.median:,.0f} ({low:,.0f}-{high:,.0f})"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def endless(batches: Callable[[], Iterator]) -> Iterator:
    return itertools.chain.from_iterable(batches() for _ in itertools.count())


def glyphgen_loop(name: str, config, train_set: ImageSet, device: torch.device, train: TrainConfig) -> Callable:
    """Steps of the real training loop: the model placed, the step built and batches drawn as train() does."""
    torch.manual_seed(train.seed)
    model = place(model_class(name)(config, train_set.image_size, len(train_set.class_names)), device)
    optimizers = model.configure_optimizers()
    step = step_function(model, optimizers, device, train)
    data = DeviceImages.from_image_set(train_set, device)
    model.start_training(data.images, data.labels, train.seed)
    order = torch.Generator().manual_seed(train.seed)
    batches = endless(lambda: data.epoch_batches(config.batch_size, order))
    model.train()

    def run(steps: int) -> None:
        run_epoch(step, itertools.islice(batches, steps), 0, train.log_every, lambda means, step, steps: None)

    return run


def reference_loop(name: str, config, train_set: ImageSet, device: torch.device) -> Callable:
    """Steps of the tutorial loop on the same networks: NCHW, Adam's defaults, DataLoader, .item() per loss."""
    torch.manual_seed(0)
    model = model_class(name)(config, train_set.image_size, len(train_set.class_names)).to(device)
    optimizers = reference_optimizers(model)
    train_step = reference_step(model)
    images = DeviceImages.from_image_set(train_set, device)
    model.start_training(images.images, images.labels, 0)  # aae_semi's labelled subset, as the loop picks it
    batches = endless(lambda: reference_batches(train_set.images, train_set.labels, config.batch_size, device))
    model.train()

    def run(steps: int) -> None:
        for images, labels in itertools.islice(batches, steps):
            train_step(model, images, labels, optimizers)

    return run


def timed(run: Callable, steps: int, device: torch.device, threads: int) -> float:
    torch.set_num_threads(threads)
    synchronize(device)
    started = time.perf_counter()
    run(steps)
    synchronize(device)
    return time.perf_counter() - started


def profile(run: Callable, steps: int, device: torch.device, threads: int, label: str) -> str:
    """torch.profiler's operators by self time over `steps` steps: where a loop's time goes."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    torch.set_num_threads(threads)
    with torch.profiler.profile(activities=activities) as profiler:
        run(steps)
        synchronize(device)
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return f"{label}, {steps} steps:\n" + profiler.key_averages().table(sort_by=sort, row_limit=12)


def step_flops(name: str, config, train_set: ImageSet, device: torch.device) -> int:
    """FLOPs of one training step (forward and backward of every network; the optimiser's are negligible)."""
    model = place(model_class(name)(config, train_set.image_size, len(train_set.class_names)), device)
    optimizers = model.configure_optimizers()
    data = DeviceImages.from_image_set(train_set.subset(np.arange(config.batch_size)), device)
    model.start_training(data.images, data.labels, 0)
    images, labels = data.batch(torch.arange(config.batch_size, device=device))
    with FlopCounterMode(display=False) as counter:
        model.train_step(images, labels, optimizers)
    return counter.get_total_flops()


def model_config(params: dict, name: str, preset: str, dataset: str):
    """params.yaml's run of the model (its default), or the class's preset when asked or not in params.yaml."""
    if preset == "default":
        try:
            return run_settings(params, name, dataset)[0]
        except GlyphgenError:
            pass
    return model_class(name).presets[preset]


def compare(name: str, preset: str, config, train_set: ImageSet, device: torch.device, train: TrainConfig,
            seconds: float, repeats: int, default_threads: int, profiled: bool = False) -> dict:
    ours = glyphgen_loop(name, config, train_set, device, train)
    theirs = reference_loop(name, config, train_set, device)
    ours_threads = train.threads or default_threads
    # On CUDA: past the CUDA graph's capture, and enough steps that a repeat is not a few milliseconds.
    warm_up, fewest = (10, 200) if device.type == "cuda" else (3, 3)
    timed(ours, warm_up, device, ours_threads)
    reference_rate = warm_up / timed(theirs, warm_up, device, default_threads)
    steps = max(fewest, round(seconds * reference_rate))  # the reference loop takes about `seconds` a repeat
    times: dict[str, list[float]] = {"glyphgen": [], "reference": []}
    for repeat in range(repeats):
        # Alternate which goes first, so neither always follows the other's cache and allocator state.
        order = [("glyphgen", ours, ours_threads), ("reference", theirs, default_threads)]
        for label, run, threads in order if repeat % 2 == 0 else reversed(order):
            times[label].append(steps * config.batch_size / timed(run, steps, device, threads))
    row = {"model": name if preset == "default" else f"{name} {preset}", "batch": config.batch_size, "steps": steps,
           "glyphgen": Timing(times["glyphgen"]), "reference": Timing(times["reference"])}
    row["ratio"] = row["glyphgen"].median / row["reference"].median
    if profiled:
        row["profile"] = "\n".join(profile(run, steps, device, threads, f"{row['model']}: {label}")
                                    for label, run, threads in order)
    if name in CONV_MODELS:
        flops_per_image = step_flops(name, config, train_set, device) / config.batch_size
        row["tflops"] = flops_per_image * row["glyphgen"].median / 1e12
    return row


def peak_tflops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16_TFLOPS.items() if key in name), None)


def training_table(rows: list[dict], peak: float | None) -> str:
    lines = ["| model | batch | steps | glyphgen images/s | reference images/s | ratio | glyphgen TFLOP/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        tflops = ""
        if "tflops" in row:
            tflops = f"{row['tflops']:.3f}" + (f" ({100 * row['tflops'] / peak:.1f}% of {peak:.0f})" if peak else "")
        lines.append(f"| {row['model']} | {row['batch']} | {row['steps']} | {row['glyphgen']} | {row['reference']} "
                     f"| {row['ratio']:.1f}x | {tflops} |")
    return "\n".join(lines) + "\n"


def dvc_env(dvc_dir: Path) -> dict[str, str]:
    """The environment `make repro` runs DVC in: the folder's .venv first on PATH."""
    env = dict(os.environ)
    venv_bin = dvc_dir / ".venv" / "bin"
    if venv_bin.is_dir():
        env["PATH"] = f"{venv_bin}{os.pathsep}{env['PATH']}"
    return env


def dvc_seconds(dvc_dir: Path, repeats: int) -> dict[str, Timing] | None:
    """Wall seconds of a no-op `dvc status` and `dvc repro` in dvc_dir, alternating (stored as Timing lists);
    None when the pipeline there is not up to date, where `dvc repro` would run stages rather than check them."""
    env = dvc_env(dvc_dir)
    status = subprocess.run(["dvc", "status", "--json"], cwd=dvc_dir, env=env, capture_output=True, text=True)
    if status.returncode != 0 or status.stdout.strip() != "{}":
        print(f"{dvc_dir}: the pipeline is not up to date (or not a DVC project): no no-op to time")
        return None
    # Wall seconds, and the CPU seconds (user + system) DVC itself spent: on a machine shared with other jobs
    # the wall time waits for a core, the CPU time is about what an idle machine's wall time would be.
    seconds: dict[str, list[float]] = {"dvc status": [], "dvc repro": [], "dvc status (CPU)": [], "dvc repro (CPU)": []}
    for _ in range(repeats):
        for command in ("dvc status", "dvc repro"):
            started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(command.split(), cwd=dvc_dir, env=env, capture_output=True, text=True)
            seconds[command].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds[f"{command} (CPU)"].append(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime)
            if done.returncode != 0 or (command == "dvc repro" and "Running stage" in done.stdout):
                raise GlyphgenError(f"{dvc_dir}: `{command}` was not a no-op:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return {command: Timing(values) for command, values in seconds.items()}


def c_yaml_parser(dvc_dir: Path, env: dict) -> bool:
    """Whether the dvc there parses YAML with ruamel's C parser (ruamel.yaml.clib): DVC reads params.yaml once
    per stage, about 50 times a run, and the pure-Python parser made that most of a no-op's time."""
    python = dvc_dir / ".venv" / "bin" / "python"
    done = subprocess.run([str(python) if python.exists() else sys.executable, "-c", "import _ruamel_yaml"],
                          cwd=dvc_dir, env=env, capture_output=True)
    return done.returncode == 0


def dvc_table(timings: dict[str, Timing]) -> str:
    lines = ["| no-op command | wall s, median | wall s, min-max | CPU s, median | CPU s, min-max |",
             "|---|---:|---:|---:|---:|"]
    for command in ("dvc status", "dvc repro"):
        wall, cpu = timings[command].images_per_second, timings[f"{command} (CPU)"].images_per_second  # seconds
        lines.append(f"| {command} | {statistics.median(wall):.2f} | {min(wall):.2f}-{max(wall):.2f} "
                     f"| {statistics.median(cpu):.2f} | {min(cpu):.2f}-{max(cpu):.2f} |")
    return "\n".join(lines) + "\n"


def machine(device: torch.device) -> str:
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_machine()
    return f"{where}; {torch.get_num_threads()} threads by default; Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--presets", nargs="+", default=["default", "reference"], choices=["default", "reference"])
    parser.add_argument("--dataset", default="kmnist", help="data/processed/<dataset>/train.npz (random images when absent)")
    parser.add_argument("--data", help="a train.npz to read instead")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda (default: params.yaml train.device)")
    parser.add_argument("--compile", choices=["none", "default", "reduce-overhead", "cuda-graph"],
                        help="glyphgen's train.compile (default: params.yaml's)")
    parser.add_argument("--threads", type=int, help="glyphgen's train.threads (default: params.yaml's)")
    parser.add_argument("--seconds", type=float, default=1.0, help="about how long one reference repeat runs")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's top operators of both loops")
    parser.add_argument("--dvc-dir", help="time a no-op dvc status and repro in this pipeline folder")
    parser.add_argument("--dvc-repeats", type=int, default=5)
    parser.add_argument("--note", default="", help="a line for the results file (e.g. the machine's load)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="'' to write nothing")
    args = parser.parse_args()

    params = load_params(ROOT / "params.yaml")
    train = parse_config(TrainConfig, get_section(params, "train"), "params.yaml:train")
    if args.compile:
        train = replace(train, compile=args.compile)
    if args.threads is not None:
        train = replace(train, threads=args.threads)
    device = pick_device(args.device or train.device)
    data_file = Path(args.data or ROOT / "data" / "processed" / args.dataset / "train.npz")
    if data_file.exists():
        train_set = load_image_set(data_file)
        data_name = str(data_file)
    else:  # a fresh clone or the GPU box: same shapes, random pixels (the timing does not depend on them)
        rng = np.random.default_rng(0)
        train_set = ImageSet(rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000),
                             [str(c) for c in range(10)])
        data_name = "random 28 x 28 images (60,000)"
    default_threads = torch.get_num_threads()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (f"Machine: {machine(device)}. Data: {data_name}. glyphgen's loop: params.yaml train "
              f"(compile {train.compile}, bf16 {train.bf16}, threads {train.threads or default_threads}, "
              f"log_every {train.log_every}).")
    print(header, flush=True)

    rows = []
    for name in args.models:
        for preset in args.presets:
            config = model_config(params, name, preset, args.dataset)
            try:
                row = compare(name, preset, config, train_set, device, train, args.seconds, args.repeats,
                              default_threads, args.profile)
            except Exception as exc:  # one broken row (a compile failure on some device) leaves the others
                print(f"{name} {preset}: failed: {type(exc).__name__}: {exc}", flush=True)
                continue
            rows.append(row)
            if args.profile:
                print(row["profile"])
            print(f"{row['model']:<18} glyphgen {row['glyphgen']!s:>24}  reference {row['reference']!s:>24}  "
                  f"{row['ratio']:.1f}x", flush=True)
    table = training_table(rows, peak_tflops(device))
    print(table)

    load = (f"Load average (1 min) {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end of the "
            f"training figures: other jobs shared the machine, so absolute figures are low and noisy; the two "
            f"loops' repeats alternate, so that load falls on both alike and the ratios are the figures to read.")
    print(load)
    sections = [f"# glyphgen against the tutorial loop\n\nWritten by `{' '.join(['python', *sys.argv])}` "
                f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n{header}\n",
                load + "\n", "" if not args.note else args.note + "\n",
                "## Training throughput\n\nimages/s: median (min-max) of the repeats; ratio: glyphgen's median over "
                "the reference loop's. Conv models: TFLOP/s achieved by glyphgen's step (forward and backward "
                "FLOPs counted by FlopCounterMode)" + (" against the device's dense bf16 peak" if device.type == "cuda"
                                                        else "") + ".\n\n" + table]
    dvc = dvc_seconds(Path(args.dvc_dir), args.dvc_repeats) if args.dvc_dir else None
    if dvc is not None:
        stages = timings_table(load_timings(Path(args.dvc_dir) / "timings"))
        parser_used = "with" if c_yaml_parser(Path(args.dvc_dir), dvc_env(Path(args.dvc_dir))) else "without"
        print(f"dvc in {args.dvc_dir}, {parser_used} ruamel.yaml's C parser:\n{dvc_table(dvc)}\n{stages}")
        sections.append(f"## A no-op pipeline\n\n`{args.dvc_dir}` (every stage cached; DVC {parser_used} ruamel.yaml's C "
                        f"parser), {args.dvc_repeats} repeats each, alternating:\n\n{dvc_table(dvc)}\n"
                        f"Per-stage timings there (`python -m glyphgen timings`):\n\n{stages}")
    if args.output:
        write_results(Path(args.output), "\n".join(section for section in sections if section))
        print(f"wrote {args.output}")


BEGIN, END = "<!-- begin: written by benchmarks/versus_reference.py -->", "<!-- end: written by benchmarks/versus_reference.py -->"


def write_results(path: Path, generated: str) -> None:
    """Replace the generated part of the results file; what is written by hand around it (the GPU's figures,
    the profiles' reading) stays."""
    before, after = "", ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            before, after = text.split(BEGIN, 1)[0], text.split(END, 1)[1]
    path.write_text(f"{before}{BEGIN}\n{generated}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    main()
