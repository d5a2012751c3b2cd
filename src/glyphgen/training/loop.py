"""The one training loop every generator shares (nanoGPT style: one readable function, no framework).

The whole training set sits on the device as uint8; each epoch draws a permutation and indexes batches
there. Losses accumulate on the device and are read back only every `log_every` steps, so the host never
waits on the device in between.

Resuming: a run trains in its own work folder (`<work_dir>/<dataset>/<model>/`, not a DVC output, so
`dvc repro` does not delete it) and checkpoints there after every epoch. A killed run re-run with the same
params, training data and code continues from its last checkpoint, with the same weights as an uninterrupted
run (on CPU); when any of them changed it starts afresh. A finished run's folders (`model/`, the model, and
`live/`, its dvclive logs) are renamed onto the stage outputs, so an output only ever appears complete; the
checkpoint is deleted only once they are in place.

Under torchrun (`train.distributed`, see distributed.py) each rank trains on its shard of every global batch and
the ranks average their gradients; only rank 0 logs, samples and writes the checkpoints and outputs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import pandas as pd
import torch
import torch.distributed as dist
from dvclive import Live
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet
from glyphgen.models import Generator, model_class
from glyphgen.params import check_non_negative, check_positive
from glyphgen.rendering.grids import save_png, tile, to_uint8
from glyphgen.training.batches import DeviceImages
from glyphgen.training.checkpoint import CHECKPOINT_NAME, read_checkpoint, save_checkpoint
from glyphgen.training.device import autocast, pick_device, place, seed_everything
from glyphgen.training.schedule import LrSchedule, learning_rates, with_schedule
from glyphgen.training.distributed import (DistributedConfig, Rank, average_across_ranks, barrier, from_main,
                                           gather_rng_states, share_gradients, start)

RESUME_NAME = "resume.pt"


@dataclass
class TrainConfig:
    device: str = "auto"  # auto = CUDA when present, else CPU
    threads: int = 0  # CPU threads; 0 = torch's default, one per core (see below)
    seed: int = 0
    # How the step runs. none: eagerly. default, reduce-overhead: torch.compile each network (reduce-overhead
    # replays each one's kernels as CUDA graphs). cuda-graph (CUDA only): the whole step, forward, backward and
    # optimiser, captured once as one CUDA graph and replayed, so a small model's step is one launch, not
    # hundreds. On the CPU, compile runs too (inductor's C++ kernels) and cuda-graph is eager.
    compile: Literal["none", "default", "reduce-overhead", "cuda-graph"] = "none"
    bf16: bool = True  # bf16 autocast (CUDA only)
    log_every: int = 50  # steps between loss read-backs (dvclive, progress bar, NaN guard)
    sample_grids: int = 8  # sample grids per run, at evenly spaced epochs (the last one always)
    sample_count: int = 64
    max_loss: float = 1.0e6  # a loss above this counts as exploded
    work_dir: str = "runs"  # where unfinished runs keep their resumable checkpoint
    distributed: DistributedConfig = dataclasses.field(default_factory=DistributedConfig)  # torchrun's processes

    def __post_init__(self) -> None:
        check_positive(self, "log_every", "sample_grids", "sample_count", "max_loss")
        check_non_negative(self, "threads")


def train(model_name: str, model_config: Any, train_set: ImageSet, epochs: int, config: TrainConfig,
          out_dir: str | Path, work_dir: str | Path, live_dir: str | Path,
          lr_schedule: LrSchedule = "constant") -> dict[str, float]:
    """Train one generator: write out_dir/{model.pt, samples/, samples.png} and its dvclive logs to live_dir
    (metrics.json, plots/metrics/). Return how long it took (train_seconds, images_per_second): timing differs
    between identical runs, so it stays out of both outputs and same inputs give the same bytes."""
    out_dir, work_dir, live_dir = Path(out_dir), Path(work_dir), Path(live_dir)
    rank = Rank.from_environment()
    device = pick_device(config.device)
    if rank.world_size > 1:
        device = start(rank, device)
    if config.threads > 0:
        # Idle, 2 threads train 1.2-1.9x faster than 1 on 2 cores; but on a machine busy with other work
        # OpenMP's spinning threads made 2 threads up to 8x slower than 1 (both measured): set 1 there.
        torch.set_num_threads(config.threads)
    data_order = seed_everything(config.seed)
    model = model_class(model_name)(model_config, train_set.image_size, len(train_set.class_names))
    model.class_names = list(train_set.class_names)
    model = place(model, device)
    optimizers = model.configure_optimizers()
    base_rates = learning_rates(optimizers)
    run = {"model": model_name, "config": dataclasses.asdict(model_config), "epochs": epochs, "seed": config.seed,
           "data": data_version(train_set), "code": code_version(model_name), "lr_schedule": lr_schedule}
    if rank.world_size > 1:  # a run resumes only on as many ranks as it began with
        run["world_size"] = rank.world_size
        share_gradients(model, optimizers, rank, config.seed)
    run = json.dumps(run, sort_keys=True)
    epoch, step, seconds = resume(work_dir, model, optimizers, data_order, run, rank)
    train_step = step_function(model, optimizers, device, config, fixed_rates=lr_schedule == "constant")

    data = DeviceImages.from_image_set(train_set, device)
    model.start_training(data.images, data.labels, config.seed)
    batch_size = model.config.batch_size
    if batch_size % rank.world_size:
        raise GlyphgenError(f"params.yaml:models.{model_name}: batch_size {batch_size} (the global batch) does not "
                            f"split evenly over {rank.world_size} ranks (train.distributed)")
    steps_per_epoch = data.steps_per_epoch(batch_size)
    train_step = with_schedule(train_step, optimizers, base_rates, lr_schedule, epochs * steps_per_epoch, step)
    live = Live(str(work_dir / "live"), resume=step > 0, save_dvc_exp=False, dvcyaml=None) if rank.is_main else None
    # A redirected log (CI, `dvc repro > log`) gets a line every 30 s instead of ten a second.
    progress = tqdm(total=epochs * steps_per_epoch, initial=step, desc=model_name, unit="step",
                    mininterval=0.1 if sys.stderr.isatty() else 30.0, disable=not rank.is_main)

    def read_back(means: dict[str, float], step: int, steps: int) -> None:
        check_losses(means, step, epoch, config.max_loss, work_dir)
        model.observe_losses(means)  # every rank sees the same averaged read-back
        if live is not None:
            log_losses(live, progress, step, epoch, means)
        progress.update(steps)

    while epoch < epochs:
        started = time.perf_counter()
        model.train()
        shards = data.epoch_batches(batch_size, data_order, shard=(rank.rank, rank.world_size))
        step = run_epoch(train_step, shards, step, config.log_every, read_back)
        epoch += 1
        seconds += time.perf_counter() - started
        if grid_due(epoch, epochs, config.sample_grids) and rank.is_main:
            finish_training(model, data, PREVIEW_FIT_IMAGES, config.seed)
            save_samples(model, work_dir / "model" / "samples" / f"epoch_{epoch:03d}.png", config)
        state = training_state(epoch, step, seconds, run, optimizers, data_order)
        if rank.is_main:
            save_checkpoint(work_dir / RESUME_NAME, model, state)
    progress.close()
    if not rank.is_main:
        barrier()  # rank 0 publishes the run
        return {}

    live.end()
    finish_training(model, data, FINAL_FIT_IMAGES, config.seed)
    save_samples(model, work_dir / "model" / "samples.png", config)
    save_checkpoint(work_dir / "model" / CHECKPOINT_NAME, model)
    publish([(work_dir / "model", out_dir), (work_dir / "live", live_dir)])
    shutil.rmtree(work_dir)  # the resume checkpoint, no longer needed once the run is in place
    barrier()
    images_per_second = step * batch_size / max(seconds, 1e-9)
    return {"train_seconds": round(seconds, 1), "images_per_second": round(images_per_second, 1)}


def step_function(model: Generator, optimizers: dict[str, torch.optim.Optimizer], device: torch.device,
                  config: TrainConfig, fixed_rates: bool = True
                  ) -> Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]:
    """One optimisation step as the loop runs it: bf16 autocast on CUDA (train.bf16), run as train.compile
    says. The model's optimisers are fused Adam (models/shared/blocks.adam)."""
    if config.compile in ("default", "reduce-overhead"):
        for network in model.children():
            network.compile(mode=config.compile)
    # CUDA graphs reuse their output buffers: marking each step's start tells them the last step's are dead.
    mark_step = config.compile == "reduce-overhead" and device.type == "cuda"
    graphed = config.compile == "cuda-graph" and device.type == "cuda" and capturable(model, fixed_rates)

    def step(images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        if mark_step:
            torch.compiler.cudagraph_mark_step_begin()
        with autocast(device, config.bf16, cache_enabled=not graphed):
            return model.train_step(images, labels, optimizers)

    return GraphedStep(step, optimizers) if graphed else step


def capturable(model: Generator, fixed_rates: bool = True) -> bool:
    """Whether a model's step can be captured as a CUDA graph: AveragedModel (the GANs' weight average) reads
    its update counter on the host, which a capture forbids, and a graph would replay the learning rate it was
    captured with, ignoring a schedule; such a model runs its step eagerly."""
    if any(isinstance(module, AveragedModel) for module in model.modules()):
        print(f"train.compile=cuda-graph: {model.name} averages its weights with AveragedModel, which syncs with "
              f"the host every step; its step runs eagerly", file=sys.stderr)
        return False
    if not fixed_rates:
        print(f"train.compile=cuda-graph: {model.name}'s learning rates follow a schedule, which a graph would not "
              f"replay; its step runs eagerly", file=sys.stderr)
        return False
    return True


class GraphedStep:
    """A training step captured once as a CUDA graph (after a few eager steps on a side stream, as capture
    requires) and replayed on every later batch, copied into the graph's static input. Each call is one real
    step; the returned losses are the graph's own tensors, overwritten by the next replay (the loop adds them
    to its sums first, in stream order)."""

    WARM_UP_STEPS = 3

    def __init__(self, step: Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]],
                 optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.step, self.steps, self.graph = step, 0, None
        for optimizer in optimizers.values():  # keep the optimiser's step counter on the device
            for group in optimizer.param_groups:
                group["capturable"] = True

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        self.steps += 1
        if self.steps <= self.WARM_UP_STEPS:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                losses = self.step(images, labels)
            torch.cuda.current_stream().wait_stream(side)
            return losses
        if self.graph is None:
            self.images, self.labels = images.clone(), labels.clone()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.losses = self.step(self.images, self.labels)
        else:
            self.images.copy_(images)
            self.labels.copy_(labels)
        self.graph.replay()
        return self.losses


def run_epoch(train_step: Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]],
              batches: Iterable[tuple[torch.Tensor, torch.Tensor]], step: int, log_every: int,
              read_back: Callable[[dict[str, float], int, int], None]) -> int:
    """Train on every batch; return the step count after them. Losses are summed on the device and read back
    (`read_back(mean losses, step, steps since the last read-back)`) only every `log_every` steps and after
    the last batch, so no NaN goes unseen into a checkpoint and the host never waits on the device between."""
    loss_sums: dict[str, torch.Tensor] = {}
    steps_summed = 0
    for images, labels in batches:
        losses = train_step(images, labels)
        loss_sums = {name: loss_sums.get(name, 0) + loss.float() for name, loss in losses.items()}
        steps_summed += 1
        step += 1
        if step % log_every == 0:
            read_back(mean_losses(loss_sums, steps_summed), step, steps_summed)
            loss_sums, steps_summed = {}, 0
    if steps_summed:
        read_back(mean_losses(loss_sums, steps_summed), step, steps_summed)
    return step


def publish(moves: list[tuple[Path, Path]]) -> None:
    """Rename each finished folder onto its stage output, all of them or none.

    An old output is renamed aside and deleted only once every new one is in place. When a rename fails (an
    output on another filesystem, a folder that is not writable), every rename made is undone: the old outputs
    are back and the finished run stays in the work folder, where a re-run finds it complete (its checkpoint
    is at the last epoch) and publishes it without training again.
    """
    renamed: list[tuple[Path, Path]] = []  # (from, to) of every rename made, to undo them on failure
    try:
        for finished, destination in moves:
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.exists():
                shutil.rmtree(set_aside(destination), ignore_errors=True)  # left by a run killed right here
                os.replace(destination, set_aside(destination))
                renamed.append((destination, set_aside(destination)))
            os.replace(finished, destination)
            renamed.append((finished, destination))
    except OSError as exc:
        for source, target in reversed(renamed):
            os.replace(target, source)
        raise GlyphgenError(f"{destination}: cannot move the finished run there ({exc.strerror or exc}); it is "
                            f"kept in {finished.parent}, and re-running the stage publishes it without "
                            f"training again") from None
    for _, destination in moves:
        shutil.rmtree(set_aside(destination), ignore_errors=True)


def set_aside(output: Path) -> Path:
    """Where an old output waits while its replacement moves in."""
    return output.with_name(f".{output.name}.old")


def grid_due(epoch: int, epochs: int, grids: int) -> bool:
    """Whether epoch (1-based) is one of `grids` evenly spaced epochs ending with the last: a run of 60 short
    epochs and one of 2 long ones both show how training moved without a grid (and a code-mixture fit) per epoch."""
    return epoch * grids // epochs != (epoch - 1) * grids // epochs


# Models that fit what they sample from after training (the autoencoders' code mixture) see a seeded subset of
# the training images: a small one for each epoch's sample grid (a fit of about half a second), a larger one for
# the model that is kept (a few seconds).
PREVIEW_FIT_IMAGES = 2000
FINAL_FIT_IMAGES = 10000


@torch.no_grad()
def finish_training(model: Generator, data: DeviceImages, count: int, seed: int) -> None:
    chosen = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:count]
    model.eval()
    model.finish_training((data.batch(index) for index in chosen.to(data.images.device).split(500)), seed)
    model.train()


def mean_losses(loss_sums: dict[str, torch.Tensor], steps: int) -> dict[str, float]:
    """The only host-device sync in the loop: one read-back of every loss at once."""
    values = average_across_ranks(torch.stack(list(loss_sums.values())).div(steps)).tolist()
    return dict(zip(loss_sums, values))


def check_losses(losses: dict[str, float], step: int, epoch: int, max_loss: float, work_dir: Path) -> None:
    """Stop on a NaN or exploding loss; the resume checkpoint of the last finished epoch stays as it was."""
    for name, value in losses.items():
        if not math.isfinite(value) or abs(value) > max_loss:
            kept = (f"the checkpoint of epoch {epoch} is kept in {work_dir / RESUME_NAME}" if epoch > 0
                    else "no epoch had finished, so no checkpoint is kept")
            raise GlyphgenError(
                f"training stopped at step {step} (epoch {epoch + 1}): loss '{name}' is {value:.4g} "
                f"(NaN, infinite or above train.max_loss={max_loss:g}); {kept} (try a lower learning rate)"
            )


def log_losses(live: Live, progress: tqdm, step: int, epoch: int, losses: dict[str, float]) -> None:
    live.step = step
    for name, value in losses.items():
        live.log_metric(f"train/{name}", value)
    live.log_metric("epoch", epoch + 1, plot=False)
    live.next_step()
    progress.set_postfix({name: f"{value:.4g}" for name, value in losses.items()}, refresh=False)


def save_samples(model: Generator, path: Path, config: TrainConfig) -> None:
    """A grid from the same noise every time (seeded), so successive grids show how training moves."""
    images = to_uint8(model.draw(config.sample_count, config.seed))
    save_png(path, tile(images, columns=int(math.sqrt(config.sample_count))), scale=2)


def training_state(epoch: int, step: int, seconds: float, run: str, optimizers: dict[str, torch.optim.Optimizer],
                   data_order: torch.Generator) -> dict[str, Any]:
    rng = {"torch": torch.get_rng_state(), "data_order": data_order.get_state()}
    if dist.is_initialized():  # each rank draws its own noise
        rng["ranks"] = gather_rng_states()
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {"epoch": epoch, "step": step, "seconds": seconds, "run": run, "rng": rng,
            "optimizers": {name: optimizer.state_dict() for name, optimizer in optimizers.items()}}


def data_version(train_set: ImageSet) -> str:
    """A hash of the training images and labels: a run resumes only on the data it began with."""
    digest = hashlib.sha256(train_set.images.tobytes())
    digest.update(train_set.labels.tobytes())
    return digest.hexdigest()


def code_version(model_name: str) -> str:
    """A hash of the code that computes a run's weights: the model's own file, the shared model code
    (models/shared/) and this package (training/). A run resumes only under the code it began with."""
    model_file = Path(inspect.getsourcefile(model_class(model_name)))
    shared, training = model_file.parent / "shared", Path(__file__).parent
    files = [model_file, *sorted(shared.glob("*.py")), *sorted(training.glob("*.py"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_resume_state(path: Path) -> dict[str, Any] | None:
    """The checkpoint in `path`, or None when there is none; an unreadable one is discarded with a warning, as
    a run killed while the disk filled up (or a damaged file) would otherwise block training until deleted."""
    if not path.exists():
        return None
    try:
        checkpoint = read_checkpoint(path, "cpu")
        if "run" not in checkpoint.get("training", {}):
            raise GlyphgenError(f"{path}: a checkpoint without training state")
    except GlyphgenError as exc:
        print(f"warning: {exc}; discarding it and starting afresh", file=sys.stderr)
        return None
    return checkpoint


def resume(work_dir: Path, model: Generator, optimizers: dict[str, torch.optim.Optimizer],
           data_order: torch.Generator, run: str, rank: Rank = Rank()) -> tuple[int, int, float]:
    """Restore the work folder's checkpoint when it belongs to this run; return (epoch, step, seconds) done.
    Rank 0 alone reads and writes the work folder, so the other ranks need not share its disk."""
    checkpoint = from_main(read_resume_state(work_dir / RESUME_NAME) if rank.is_main else None)
    if checkpoint is not None:
        training = checkpoint["training"]
        if training["run"] == run:
            model.load_state_dict(checkpoint["state_dict"])
            for name, optimizer in optimizers.items():
                optimizer.load_state_dict(training["optimizers"][name])
            restore_rng(training["rng"], rank)
            data_order.set_state(training["rng"]["data_order"])
            if rank.is_main:
                forget_logs_after(work_dir / "live", training["step"])
                print(f"resuming {work_dir} from epoch {training['epoch']} (step {training['step']})")
            return training["epoch"], training["step"], training["seconds"]
        before, now = json.loads(training["run"]), json.loads(run)
        changed = ", ".join(key for key in sorted(now) if before.get(key) != now[key])
        if rank.is_main:
            print(f"{work_dir}: changed since the interrupted run ({changed}); starting afresh")
    if rank.is_main:
        if work_dir.exists():
            shutil.rmtree(work_dir)
        work_dir.mkdir(parents=True)
    return 0, 0, 0.0


def restore_rng(rng: dict[str, Any], rank: Rank) -> None:
    if "ranks" in rng:  # a distributed run: this rank's own noise, on the CPU and on its GPU
        own = rng["ranks"][rank.rank]
        torch.set_rng_state(own["torch"])
        if "cuda" in own:
            torch.cuda.set_rng_state(own["cuda"])
        return
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def forget_logs_after(live_dir: Path, step: int) -> None:
    """Drop the dvclive rows logged after the checkpoint, which the resumed run is about to log again.

    dvclive writes in place, so a run killed mid-write leaves a row cut short (it reads as a smaller step, or with
    empty cells) or a truncated summary: keep each history's complete rows up to the checkpoint, and drop an
    unreadable summary, which the resumed run's next read-back writes whole again.
    """
    for history in (live_dir / "plots" / "metrics").rglob("*.tsv"):
        table = pd.read_csv(history, sep="\t")
        kept = table.notna().all(axis=1) & (table["step"] <= step)
        table.iloc[:len(table) if kept.all() else int(kept.argmin())].to_csv(history, sep="\t", index=False)
    summary = live_dir / "metrics.json"
    try:
        json.loads(summary.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except json.JSONDecodeError:
        summary.unlink()
