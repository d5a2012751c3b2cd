"""Shared fixtures: small slices of the real KMNIST mirror and a judge trained on them in a few seconds."""

from __future__ import annotations

import pytest
import torch

from glyphgen.evaluation.classifier import ClassifierConfig, image_tensor, predict, train_classifier
from glyphgen.evaluation.scorecard import JudgeFeatures
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
def judge(kmnist_train):
    return train_classifier(kmnist_train, ClassifierConfig(epochs=2, batch_size=32, max_lr=0.01), torch.device("cpu"))


@pytest.fixture(scope="session")
def judge_features(judge, kmnist_train, kmnist_test) -> JudgeFeatures:
    # As the train_classifier stage saves them: the test split, and as many train images (the ceiling's reference).
    train_images = image_tensor(kmnist_train)[: len(kmnist_test)]
    return JudgeFeatures(predict(judge, train_images)[0], predict(judge, image_tensor(kmnist_test))[0])


@pytest.fixture
def kmnist_mirror():
    """The shared folder of official KMNIST files that sits beside the repository (CI provides it)."""
    kmnist_slice(0)  # skips the test without the mirror
    return KMNIST_MIRROR
