"""The judges: small classifiers whose features the sample metrics use, several since one feature space rewards
what it happens not to see (Kynkäänniemi et al. 2023); why each is as it is: docs/metrics.md."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet, atomic_path
from glyphgen.params import check_non_negative, check_positive
from glyphgen.training.batches import DeviceImages
from glyphgen.training.device import place, seed_everything

CHECKPOINT_NAME = "judge.pt"
FEATURES_NAME = "features.npz"
JUDGE_SIZE = 28  # every judge reads 28 px images: 64 px glyphs cost a fifth of the convolutions and stay legible


@dataclass
class JudgeConfig:
    epochs: int = 3
    batch_size: int = 128
    max_lr: float = 0.01  # peak of the one-cycle schedule (AdamW)
    weight_decay: float = 0.01
    seed: int = 0
    shift: int = 0  # training images moved by up to this many pixels (at 28 px) in x and y; 0 = none
    outlier_share: float = 0.25  # noise added to each batch, taught to claim no class (docs/metrics.md)
    outlier_weight: float = 0.5

    def __post_init__(self) -> None:
        check_positive(self, "epochs", "batch_size", "max_lr")
        check_non_negative(self, "weight_decay", "shift", "outlier_share", "outlier_weight")
        if self.shift > JUDGE_SIZE // 4:
            raise ValueError(f"shift: expected at most {JUDGE_SIZE // 4} pixels, got {self.shift}")


def at_judge_size(images: torch.Tensor) -> torch.Tensor:
    return images if images.shape[-1] == JUDGE_SIZE else F.adaptive_avg_pool2d(images, JUDGE_SIZE)


class Judge(nn.Module):
    """A classifier whose penultimate activations (`body`, 28 px images -> B x feature_dim) are the metrics' space."""

    feature_dim: int

    def __init__(self, num_classes: int, body: nn.Module, head_dropout: float) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.body = body
        self.head = nn.Sequential(nn.Dropout(head_dropout), nn.Linear(self.feature_dim, num_classes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(at_judge_size(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


class PooledCNN(Judge):
    feature_dim = 128

    def __init__(self, num_classes: int) -> None:
        # BatchNorm after each pool, on a quarter of the values: cheaper on a CPU than the convolutions.
        body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.MaxPool2d(2),      # B x 32 x 14 x 14
            nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.MaxPool2d(2),     # B x 64 x 7 x 7
            nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.Dropout(0.25), nn.Flatten(),                                    # B x 3136
            nn.Linear(64 * 7 * 7, self.feature_dim), nn.ReLU(),                # B x 128
        )
        super().__init__(num_classes, body, head_dropout=0.5)


class StridedCNN(Judge):
    feature_dim = 96

    def __init__(self, num_classes: int) -> None:
        body = nn.Sequential(
            nn.Conv2d(1, 32, 5, stride=2, padding=2), nn.GroupNorm(8, 32), nn.GELU(),    # B x 32 x 14 x 14
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GroupNorm(8, 64), nn.GELU(),   # B x 64 x 7 x 7
            nn.Conv2d(64, 96, 3, stride=2, padding=1), nn.GroupNorm(8, 96), nn.GELU(),   # B x 96 x 4 x 4
            nn.Flatten(), nn.Linear(96 * 4 * 4, self.feature_dim), nn.GELU(),          # B x 96
        )
        super().__init__(num_classes, body, head_dropout=0.3)


class WideCNN(Judge):
    feature_dim = 128

    def __init__(self, num_classes: int) -> None:
        body = nn.Sequential(
            nn.Conv2d(1, 24, 7, stride=2, padding=3), nn.GELU(),                      # B x 24 x 14 x 14
            nn.Conv2d(24, 48, 3, stride=2, padding=1), nn.GELU(),                     # B x 48 x 7 x 7
            nn.Flatten(), nn.Linear(48 * 7 * 7, self.feature_dim), nn.GELU(),        # B x 128
        )
        super().__init__(num_classes, body, head_dropout=0.3)


class PixelMLP(Judge):
    feature_dim = 128

    def __init__(self, num_classes: int) -> None:
        body = nn.Sequential(
            nn.Flatten(),                                                      # B x 784
            nn.Linear(JUDGE_SIZE * JUDGE_SIZE, 512), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(512, self.feature_dim), nn.ReLU(),                       # B x 128
        )
        super().__init__(num_classes, body, head_dropout=0.2)


# The registry: params.yaml's train_judges.judges names which of these each data set trains, with their schedules.
ARCHITECTURES: dict[str, type[Judge]] = {"cnn": PooledCNN, "strided_cnn": StridedCNN, "wide_cnn": WideCNN,
                                         "mlp": PixelMLP}


def architecture(name: str) -> type[Judge]:
    if name not in ARCHITECTURES:
        raise GlyphgenError(f"params.yaml:train_judges.judges: unknown judge {name!r} (expected some of: "
                            f"{', '.join(ARCHITECTURES)})")
    return ARCHITECTURES[name]


def shifted(images: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by its own random whole-pixel offset in [-pixels, pixels] in x and y (zeros fill in)."""
    size = images.shape[-1]
    pad = round(pixels * size / JUDGE_SIZE)
    padded = F.pad(images, (pad, pad, pad, pad))
    # Offsets from the (CPU) generator, so CPU and CUDA runs draw the same; the gather runs where the images are.
    offsets = torch.randint(0, 2 * pad + 1, (len(images), 2), generator=generator).to(images.device)
    steps = torch.arange(size, device=images.device)
    rows = (offsets[:, :1] + steps)[:, :, None]                                # B x H x 1
    columns = (offsets[:, 1:] + steps)[:, None, :]                             # B x 1 x W
    batch = torch.arange(len(images), device=images.device)[:, None, None]
    return padded[:, 0][batch, rows, columns].unsqueeze(1)


def outlier_images(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Images of no class: half uniform noise, half sparse speckle, each image lit at its own rate up to 0.3."""
    uniform = torch.rand(count // 2, 1, size, size, generator=generator)
    density = 0.3 * torch.rand(count - count // 2, 1, 1, 1, generator=generator)
    speckle = (torch.rand(count - count // 2, 1, size, size, generator=generator) < density).float()
    return torch.cat([uniform, speckle])


def letter_names(class_names: list[str]) -> list[str]:
    """The class names case-folded, each once, in order of first appearance (o and O are one letter)."""
    return list(dict.fromkeys(name.casefold() for name in class_names))


def class_groups(class_names: list[str]) -> torch.Tensor:
    """Each class's index among `letter_names`."""
    names = letter_names(class_names)
    return torch.tensor([names.index(name.casefold()) for name in class_names])


def letters(image_set: ImageSet) -> ImageSet:
    """The classes judges learn: names that differ only in case are one class (why: docs/metrics.md)."""
    groups = class_groups(image_set.class_names).numpy()
    return ImageSet(image_set.images, groups[image_set.labels], letter_names(image_set.class_names))


def train_judge(name: str, train_set: ImageSet, config: JudgeConfig, device: torch.device) -> Judge:
    train_set = letters(train_set)
    generator = seed_everything(config.seed)
    data = DeviceImages.from_image_set(train_set, device)
    model = place(architecture(name)(len(train_set.class_names)), device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.max_lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.max_lr, epochs=config.epochs, steps_per_epoch=data.steps_per_epoch(config.batch_size))
    model.train()
    for epoch in range(config.epochs):
        started = time.perf_counter()
        for images, labels in data.epoch_batches(config.batch_size, generator):
            if config.shift:
                images = shifted(images, config.shift, generator)
            outliers = outlier_images(round(config.outlier_share * len(images)), images.shape[-1], generator)
            logits = model(torch.cat([images, outliers.to(images.device)]))
            loss = F.cross_entropy(logits[:len(labels)], labels)
            if len(outliers):
                loss = loss - config.outlier_weight * logits[len(labels):].log_softmax(dim=1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"{name} epoch {epoch + 1}/{config.epochs}: last batch loss {loss.item():.4f} "
              f"({time.perf_counter() - started:.1f} s)")
    return model.eval()


@torch.no_grad()
def predict(model: Judge, images: torch.Tensor, batch_size: int = 250) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N x feature_dim) and logits (N x classes) of [0, 1] images N x 1 x H x W, in batches."""
    model.eval()
    device = next(model.parameters()).device
    features, logits = [], []
    for batch in images.split(batch_size):
        batch_features = model.features(batch.to(device, torch.float32))
        features.append(batch_features)
        logits.append(model.head(batch_features))
    return torch.cat(features).cpu(), torch.cat(logits).cpu()


def image_tensor(image_set: ImageSet) -> torch.Tensor:
    """An image set as float [0, 1] N x 1 x H x W on the CPU."""
    return torch.from_numpy(image_set.images).unsqueeze(1).float().div_(255.0)


def accuracy(logits: torch.Tensor, labels: np.ndarray) -> float:
    return float((logits.argmax(1) == torch.from_numpy(labels)).float().mean())


def save_judge(path: str | Path, name: str, model: Judge, image_size: int, config: JudgeConfig) -> None:
    checkpoint = {"judge": name, "num_classes": model.num_classes, "image_size": image_size, "config": asdict(config),
                  "state_dict": model.state_dict()}
    # Through a handle: given a path, torch.save names its inner folder after the random temporary file.
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(checkpoint, handle)


def load_judge(path: str | Path, image_size: int | None = None) -> Judge:
    """A trained judge on the CPU; `image_size` guards against judging one data set with another's judge."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: judge checkpoint not found (run the train_judges stage)") from None
    if image_size is not None and checkpoint["image_size"] != image_size:
        raise GlyphgenError(f"{path}: judge was trained on {checkpoint['image_size']}px images, got {image_size}px")
    if checkpoint.get("judge") not in ARCHITECTURES:
        raise GlyphgenError(f"{path}: not a judge checkpoint (re-run the train_judges stage)")
    model = ARCHITECTURES[checkpoint["judge"]](checkpoint["num_classes"])
    model.load_state_dict(checkpoint["state_dict"])
    return place(model, torch.device("cpu")).eval()
