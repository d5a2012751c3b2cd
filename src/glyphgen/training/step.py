"""One optimisation step as the loop runs it: eager, through torch.compile, or captured whole as a CUDA graph."""

from __future__ import annotations

import sys
from typing import Callable

import torch
from torch.optim.swa_utils import AveragedModel

from glyphgen.models import Generator
from glyphgen.training.device import autocast

Step = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


def step_function(model: Generator, optimizers: dict[str, torch.optim.Optimizer], device: torch.device,
                  config, fixed_rates: bool = True) -> Step:
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
    """Whether a step can be one CUDA graph: not with AveragedModel, which reads its counter on the host, nor
    with a learning-rate schedule, which a replayed graph would ignore."""
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
    """A step captured once as a CUDA graph after a few eager warm-up steps on a side stream, then replayed on
    each batch copied into its static inputs. The losses it returns are overwritten by the next replay."""

    WARM_UP_STEPS = 3

    def __init__(self, step: Step, optimizers: dict[str, torch.optim.Optimizer]) -> None:
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
