"""Data-parallel training under torchrun. Gradients are averaged in a pre-step hook on each optimiser, not by
DistributedDataParallel, whose wrapper expects one forward a step where a GAN's step calls its networks often."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from glyphgen.errors import GlyphgenError
from glyphgen.params import check_positive


@dataclass
class DistributedConfig:
    nproc_per_node: int = 1  # one per GPU, or a few on a CPU
    nnodes: int = 1  # more than one needs GLYPHGEN_RDZV_ENDPOINT and GLYPHGEN_NODE_RANK (README)

    def __post_init__(self) -> None:
        check_positive(self, "nproc_per_node", "nnodes")

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes


@dataclass(frozen=True)
class Rank:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls) -> "Rank":
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def torchrun_command(config: DistributedConfig, argv: list[str]) -> list[str]:
    """Static rendezvous on several machines, so node 0, where rank 0 writes the outputs, stays where told."""
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={config.nproc_per_node}",
               f"--nnodes={config.nnodes}"]
    if config.nnodes == 1:
        command.append("--standalone")
    else:
        host, _, port = os.environ.get("GLYPHGEN_RDZV_ENDPOINT", "").rpartition(":")
        node_rank = os.environ.get("GLYPHGEN_NODE_RANK", "")
        if not (host and port.isdigit() and node_rank.isdigit()):
            raise GlyphgenError(f"params.yaml:train.distributed.nnodes is {config.nnodes}: set GLYPHGEN_RDZV_ENDPOINT "
                                "to host:port on node 0 (the machine running dvc repro) and GLYPHGEN_NODE_RANK to "
                                "0 there and 1, 2, ... on the others")
        command += [f"--node-rank={node_rank}", f"--master-addr={host}", f"--master-port={port}"]
    return [*command, *argv]


def start(rank: Rank, device: torch.device) -> torch.device:
    if device.type == "cuda":
        device = torch.device("cuda", rank.local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda"
                            else None)
    return device


def share_gradients(model: torch.nn.Module, optimizers: dict[str, torch.optim.Optimizer], rank: Rank,
                    seed: int) -> None:
    """Then seeds each rank's noise apart: the weights were built from the shared seed."""
    for tensor in [*model.parameters(), *model.buffers()]:
        dist.broadcast(tensor.data, src=0)
    for optimizer in optimizers.values():
        optimizer.register_step_pre_hook(lambda optimizer, args, kwargs: average_gradients(optimizer, rank))
    torch.manual_seed(seed + rank.rank)


def average_gradients(optimizer: torch.optim.Optimizer, rank: Rank) -> None:
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad)
                parameter.grad.div_(rank.world_size)


def average_across_ranks(values: torch.Tensor) -> torch.Tensor:
    if dist.is_initialized():
        dist.all_reduce(values)
        values = values / dist.get_world_size()
    return values


def gather_rng_states() -> list[dict[str, torch.Tensor]]:
    """So a resumed rank draws what it would have drawn."""
    own = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and dist.get_backend() == "nccl":
        own["cuda"] = torch.cuda.get_rng_state()
    states: list[dict[str, torch.Tensor]] = [{}] * dist.get_world_size()
    dist.all_gather_object(states, own)
    return states


def from_main(value: Any) -> Any:
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def finish() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
