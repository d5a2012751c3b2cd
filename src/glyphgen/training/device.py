"""Where training runs: CUDA when present (bf16 autocast), else CPU; and seeding for repeatable runs."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

from glyphgen.errors import GlyphgenError


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GlyphgenError(f"device: expected 'auto', 'cpu' or 'cuda[:N]', got {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GlyphgenError(f"device: {name!r} asked for, but no CUDA device is available")
    return device


# On the CPU a model with a conv wider than this keeps NCHW, where oneDNN's NHWC kernels lost (benchmarks/RESULTS.md).
WIDEST_CHANNELS_LAST_CONV_ON_CPU = 256


def place(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Channels-last: oneDNN's and CUDA's bf16 convs run faster in NHWC (benchmarks/train_throughput.py). The
    choice is the whole model's, since a conv computes channels-last whenever its input or weight is."""
    widest = max((layer.out_channels for layer in module.modules() if isinstance(layer, torch.nn.modules.conv._ConvNd)),
                 default=0)
    if torch.device(device).type == "cpu" and widest > WIDEST_CHANNELS_LAST_CONV_ON_CPU:
        return module.to(device, memory_format=torch.contiguous_format)
    return module.to(device, memory_format=torch.channels_last)


def autocast(device: torch.device, enabled: bool = True, cache_enabled: bool = True) -> contextlib.AbstractContextManager:
    """A no-op on CPU, where bf16 is slower than fp32 for these small layers. A CUDA graph must not cache its
    bf16 weight copies."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16, cache_enabled=cache_enabled)
    return contextlib.nullcontext()


def seed_everything(seed: int) -> torch.Generator:
    """Returns a generator for the data order."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator
