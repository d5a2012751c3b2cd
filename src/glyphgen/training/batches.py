"""No DataLoader: the data set sits on the device as uint8 and a permutation drawn on the host (the same order on
every device) picks batches out of it; only the batch becomes float."""

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
        return self.images[index].float().div_(255.0), self.labels[index]

    def epoch_batches(
        self, batch_size: int, generator: torch.Generator, drop_last: bool = True, shard: tuple[int, int] = (0, 1)
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """With shard=(rank, ranks), this rank's share of each batch; every rank draws the same permutation."""
        rank, ranks = shard
        order = torch.randperm(len(self), generator=generator).to(self.images.device)
        stop = len(self) - len(self) % batch_size if drop_last and len(self) >= batch_size else len(self)
        for start in range(0, stop, batch_size):
            yield self.batch(order[start : start + batch_size][rank::ranks])

    def steps_per_epoch(self, batch_size: int, drop_last: bool = True) -> int:
        if drop_last and len(self) >= batch_size:
            return len(self) // batch_size
        return -(-len(self) // batch_size)
