"""Data-parallel training over processes that torchrun starts: one per GPU (NCCL), or several on a CPU (gloo).

Each rank takes its shard of every global batch, and the ranks average their gradients in a pre-step hook on
each optimiser: DistributedDataParallel's computation, without its module wrapper, which expects one forward and
one backward a step where a GAN's step calls its networks several times. Each rank draws its own noise, so a run
is deterministic for a fixed world size. Only rank 0 logs, samples and writes.
"""

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
    nproc_per_node: int = 1  # processes on each machine: one per GPU, or a few on a CPU
    nnodes: int = 1  # machines; more than one needs GLYPHGEN_RDZV_ENDPOINT and GLYPHGEN_NODE_RANK (README)

    def __post_init__(self) -> None:
        check_positive(self, "nproc_per_node", "nnodes")

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes


@dataclass(frozen=True)
class Rank:
    """Where this process sits, as torchrun's environment says (one process: rank 0 of 1)."""
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
    """This script again, under torchrun: a free local port on one machine; on several, node 0 (the machine that
    runs `dvc repro`, where rank 0 writes the outputs) at GLYPHGEN_RDZV_ENDPOINT and this machine's
    GLYPHGEN_NODE_RANK (torchrun's static rendezvous, which keeps node 0 where it is told)."""
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
    """Join the process group; each rank on a GPU takes the one of its local rank."""
    if device.type == "cuda":
        device = torch.device("cuda", rank.local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda"
                            else None)
    return device


def share_gradients(model: torch.nn.Module, optimizers: dict[str, torch.optim.Optimizer], rank: Rank,
                    seed: int) -> None:
    """Make every rank hold rank 0's weights and average the gradients before each step; then seed each rank's
    noise apart (the weights were built from the shared seed)."""
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
    """The mean over ranks of a tensor every rank holds (the logged losses); itself in a single process."""
    if dist.is_initialized():
        dist.all_reduce(values)
        values = values / dist.get_world_size()
    return values


def gather_rng_states() -> list[dict[str, torch.Tensor]]:
    """Every rank's RNG states (the CPU's, and its GPU's), in rank order, so a resumed rank draws what it would
    have drawn."""
    own = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and dist.get_backend() == "nccl":
        own["cuda"] = torch.cuda.get_rng_state()
    states: list[dict[str, torch.Tensor]] = [{}] * dist.get_world_size()
    dist.all_gather_object(states, own)
    return states


def from_main(value: Any) -> Any:
    """Rank 0's value on every rank (a checkpoint rank 0 read from its disk); the value itself in one process."""
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
