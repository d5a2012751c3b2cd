"""The one training loop every generator shares (nanoGPT style: one readable function, no framework). Losses
stay on the device between read-backs; a checkpoint after every epoch lets a killed run resume."""

from __future__ import annotations

import dataclasses
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import torch
from dvclive import Live
from tqdm import tqdm

from glyphgen.errors import GlyphgenError
from glyphgen.grids import save_png, tile, to_uint8
from glyphgen.io import ImageSet, publish
from glyphgen.models import Generator, model_class
from glyphgen.params import check_non_negative, check_positive
from glyphgen.training.batches import DeviceImages
from glyphgen.training.checkpoint import (CHECKPOINT_NAME, RESUME_NAME, read_resume_state, resume, run_identity,
                                          save_checkpoint, training_state)
from glyphgen.training.device import pick_device, place, seed_everything
from glyphgen.training.distributed import (DistributedConfig, Rank, average_across_ranks, barrier, from_main,
                                           gather_rng_states, share_gradients, start)
from glyphgen.training.schedule import LrSchedule, learning_rates, with_schedule
from glyphgen.training.step import step_function


@dataclass
class TrainConfig:
    device: str = "auto"  # CUDA when present, else the CPU
    threads: int = 0  # 0: torch's default, a thread per core; 1 on a machine busy with other jobs
    seed: int = 0
    compile: Literal["none", "default", "reduce-overhead", "cuda-graph"] = "none"  # see step.py
    bf16: bool = True  # autocast, CUDA only
    log_every: int = 50  # steps between loss read-backs
    sample_grids: int = 8  # at evenly spaced epochs, the last one always
    sample_count: int = 64
    max_loss: float = 1.0e6  # a loss above this counts as exploded
    work_dir: str = "runs"
    distributed: DistributedConfig = dataclasses.field(default_factory=DistributedConfig)

    def __post_init__(self) -> None:
        check_positive(self, "log_every", "sample_grids", "sample_count", "max_loss")
        check_non_negative(self, "threads")


# For finish_training: fewer for each epoch's grid than at the end.
PREVIEW_FIT_IMAGES = 2000
FINAL_FIT_IMAGES = 10000


def train(model_name: str, model_config: Any, train_set: ImageSet, epochs: int, config: TrainConfig,
          out_dir: str | Path, work_dir: str | Path, live_dir: str | Path,
          lr_schedule: LrSchedule = "constant") -> dict[str, float]:
    """Returns how long it took, kept out of the outputs so that same inputs give the same bytes."""
    out_dir, work_dir, live_dir = Path(out_dir), Path(work_dir), Path(live_dir)
    rank = Rank.from_environment()
    device = pick_device(config.device)
    if rank.world_size > 1:
        device = start(rank, device)
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    data_order = seed_everything(config.seed)

    model = place(model_class(model_name)(model_config, train_set.image_size, len(train_set.class_names)), device)
    model.class_names = list(train_set.class_names)
    optimizers = model.configure_optimizers()
    base_rates = learning_rates(optimizers)
    if rank.world_size > 1:
        share_gradients(model, optimizers, rank, config.seed)
    run = run_identity(model_name, model_config, epochs, config.seed, train_set.images, train_set.labels,
                       lr_schedule, rank.world_size)
    checkpoint = from_main(read_resume_state(work_dir / RESUME_NAME) if rank.is_main else None)
    epoch, step, seconds = resume(checkpoint, run, work_dir, model, optimizers, data_order, rank.rank, rank.is_main)

    data = DeviceImages.from_image_set(train_set, device)
    model.start_training(data.images, data.labels, config.seed)
    batch_size = model.config.batch_size
    if batch_size % rank.world_size:
        raise GlyphgenError(f"params.yaml:models.{model_name}: batch_size {batch_size} (the global batch) does not "
                            f"split evenly over {rank.world_size} ranks (train.distributed)")
    steps_per_epoch = data.steps_per_epoch(batch_size)
    train_step = step_function(model, optimizers, device, config, fixed_rates=lr_schedule == "constant")
    train_step = with_schedule(train_step, optimizers, base_rates, lr_schedule, epochs * steps_per_epoch, step)
    live = Live(str(work_dir / "live"), resume=step > 0, save_dvc_exp=False, dvcyaml=None) if rank.is_main else None
    # A redirected log gets a line now and then, not ten a second.
    progress = tqdm(total=epochs * steps_per_epoch, initial=step, desc=model_name, unit="step",
                    mininterval=0.1 if sys.stderr.isatty() else 30.0, disable=not rank.is_main)

    def read_back(losses: dict[str, float], step: int, steps: int) -> None:
        check_losses(losses, step, epoch, config.max_loss, work_dir)
        model.observe_losses(losses)  # every rank sees the same averaged losses
        if live is not None:
            log_losses(live, progress, step, epoch, losses)
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
        rank_rng = gather_rng_states() if rank.world_size > 1 else None
        if rank.is_main:
            save_checkpoint(work_dir / RESUME_NAME, model,
                            training_state(epoch, step, seconds, run, optimizers, data_order, rank_rng))
    progress.close()
    if not rank.is_main:
        barrier()
        return {}

    live.end()
    finish_training(model, data, FINAL_FIT_IMAGES, config.seed)
    save_samples(model, work_dir / "model" / "samples.png", config)
    save_checkpoint(work_dir / "model" / CHECKPOINT_NAME, model)
    publish([(work_dir / "model", out_dir), (work_dir / "live", live_dir)])
    shutil.rmtree(work_dir)
    barrier()
    return {"train_seconds": round(seconds, 1), "images_per_second": round(step * batch_size / max(seconds, 1e-9), 1)}


def run_epoch(train_step: Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]],
              batches: Iterable[tuple[torch.Tensor, torch.Tensor]], step: int, log_every: int,
              read_back: Callable[[dict[str, float], int, int], None]) -> int:
    """Reads back after the last batch too, so no NaN reaches a checkpoint."""
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


def mean_losses(loss_sums: dict[str, torch.Tensor], steps: int) -> dict[str, float]:
    """The loop's only host-device sync: every loss read back at once."""
    values = average_across_ranks(torch.stack(list(loss_sums.values())).div(steps)).tolist()
    return dict(zip(loss_sums, values))


def check_losses(losses: dict[str, float], step: int, epoch: int, max_loss: float, work_dir: Path) -> None:
    for name, value in losses.items():
        if not math.isfinite(value) or abs(value) > max_loss:
            kept = (f"the checkpoint of epoch {epoch} is kept in {work_dir / RESUME_NAME}" if epoch > 0
                    else "no epoch had finished, so no checkpoint is kept")
            raise GlyphgenError(f"training stopped at step {step} (epoch {epoch + 1}): loss '{name}' is {value:.4g} "
                                f"(NaN, infinite or above train.max_loss={max_loss:g}); {kept} (try a lower "
                                f"learning rate)")


def log_losses(live: Live, progress: tqdm, step: int, epoch: int, losses: dict[str, float]) -> None:
    live.step = step
    for name, value in losses.items():
        live.log_metric(f"train/{name}", value)
    live.log_metric("epoch", epoch + 1, plot=False)
    live.next_step()
    progress.set_postfix({name: f"{value:.4g}" for name, value in losses.items()}, refresh=False)


def grid_due(epoch: int, epochs: int, grids: int) -> bool:
    return epoch * grids // epochs != (epoch - 1) * grids // epochs


@torch.no_grad()
def finish_training(model: Generator, data: DeviceImages, count: int, seed: int) -> None:
    chosen = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:count]
    model.eval()
    model.finish_training((data.batch(index) for index in chosen.to(data.images.device).split(500)), seed)
    model.train()


def save_samples(model: Generator, path: Path, config: TrainConfig) -> None:
    """The same seeded noise every time, so successive grids show how training moves."""
    images = to_uint8(model.draw(config.sample_count, config.seed))
    save_png(path, tile(images, columns=int(math.sqrt(config.sample_count))), scale=2)
