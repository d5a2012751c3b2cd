"""Shared fixtures: small slices of the real KMNIST mirror and a judge trained on them in a few seconds."""

from __future__ import annotations

import pytest
import torch

from glyphgen.evaluation.judges import ARCHITECTURES, JudgeConfig, image_tensor, predict, train_judge
from glyphgen.evaluation.scorecard import JudgeFeatures, Panel
from glyphgen.io import ImageSet
from pipeline_repo import KMNIST_MIRROR
from tiny_models import kmnist_slice


def _kmnist_slice(split: str, count: int) -> ImageSet:
    image_set = kmnist_slice(count, split)
    return ImageSet(image_set.images, image_set.labels, [f"class_{i}" for i in range(10)])


@pytest.fixture(scope="session")
def kmnist_train() -> ImageSet:
    return _kmnist_slice("train", 2000)


@pytest.fixture(scope="session")
def kmnist_test() -> ImageSet:
    return _kmnist_slice("test", 1000)


@pytest.fixture(scope="session")
def panel(kmnist_train, kmnist_test) -> Panel:
    """Every judge, trained for 2 epochs on the 2,000-image slice, with its features of the test split saved as
    train_judges saves them."""
    judges = {name: train_judge(name, kmnist_train, JudgeConfig(epochs=2, batch_size=32, seed=index), torch.device("cpu"))
              for index, name in enumerate(ARCHITECTURES)}
    features = {name: JudgeFeatures(predict(judge, image_tensor(kmnist_test))[0]) for name, judge in judges.items()}
    return Panel(judges, features)


@pytest.fixture(scope="session")
def judge(panel):
    return panel.judges["cnn"]


@pytest.fixture(scope="session")
def judge_features(panel) -> JudgeFeatures:
    return panel.features["cnn"]


@pytest.fixture(scope="session")
def train_features(judge, kmnist_train, kmnist_test) -> torch.Tensor:
    """The judge's features of as many train images as the test slice holds: real images of another split."""
    return predict(judge, image_tensor(kmnist_train)[: len(kmnist_test)])[0]


@pytest.fixture
def kmnist_mirror():
    """The shared folder of official KMNIST files that sits beside the repository (CI provides it)."""
    kmnist_slice(0)  # skips the test without the mirror
    return KMNIST_MIRROR
