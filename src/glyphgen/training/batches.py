"""The data set as one uint8 tensor on the training device, and mini-batches indexed from it there.

No DataLoader: a per-epoch permutation drawn on the host (so the order is the same on every device) picks
batches straight out of device memory, and only the batch is converted to float.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from glyphgen.io import ImageSet


@dataclass
class DeviceImages:
    images: torch.Tensor  # uint8, N x 1 x H x W, on the device
    labels: torch.Tensor  # int64, N, on the device

    @classmethod
    def from_image_set(cls, image_set: ImageSet, device: torch.device) -> "DeviceImages":
        images = torch.from_numpy(image_set.images).unsqueeze(1).to(device)
        labels = torch.from_numpy(image_set.labels).to(device)
        return cls(images, labels)

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Float images in [0, 1] and labels for the given indices."""
        return self.images[index].float().div_(255.0), self.labels[index]

    def epoch_batches(
        self, batch_size: int, generator: torch.Generator, drop_last: bool = True, shard: tuple[int, int] = (0, 1)
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of one epoch's permutation; with shard=(rank, ranks), this rank's share of each batch (every
        rank draws the same permutation from the same generator)."""
        rank, ranks = shard
        order = torch.randperm(len(self), generator=generator).to(self.images.device)
        stop = len(self) - len(self) % batch_size if drop_last and len(self) >= batch_size else len(self)
        for start in range(0, stop, batch_size):
            yield self.batch(order[start : start + batch_size][rank::ranks])

    def steps_per_epoch(self, batch_size: int, drop_last: bool = True) -> int:
        if drop_last and len(self) >= batch_size:
            return len(self) // batch_size
        return -(-len(self) // batch_size)
