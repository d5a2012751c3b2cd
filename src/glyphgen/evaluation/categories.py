"""Scores of models with classes: how often conditioned samples and transferred styles are judged as their class;
how well a categorical head classifies, or its clusters match the classes."""

from __future__ import annotations

import numpy as np
import torch

from glyphgen.evaluation.judges import Judge, class_groups, predict
from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.style_transfer import style_in_categories


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def contingency(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """How many times each (row, column) pair of integer labels occurs, as a `shape` table."""
    counts = np.zeros(shape, np.int64)
    np.add.at(counts, (rows, columns), 1)
    return counts


def cluster_accuracy(train_clusters: np.ndarray, train_labels: np.ndarray, test_clusters: np.ndarray,
                     test_labels: np.ndarray) -> float:
    """Each cluster is labelled by its majority training class (ties: the lower class), then scored on the
    test split; a test image in a cluster no training image fell into counts as wrong."""
    clusters = int(max(train_clusters.max(), test_clusters.max())) + 1
    counts = contingency(train_clusters, train_labels, (clusters, int(train_labels.max()) + 1))
    majority = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), -1)
    return accuracy(majority[test_clusters], test_labels)


def nmi(clusters: np.ndarray, labels: np.ndarray) -> float:
    """NMI as scikit-learn computes it (the tests compare them), written out: importing scikit-learn costs the
    evaluate stage more than this whole module."""
    cluster_values, cluster_ids = np.unique(clusters, return_inverse=True)
    label_values, label_ids = np.unique(labels, return_inverse=True)
    joint = contingency(cluster_ids, label_ids, (len(cluster_values), len(label_values))) / len(labels)
    cluster_p, label_p = joint.sum(axis=1), joint.sum(axis=0)
    if len(cluster_p) == len(label_p) == 1:  # one cluster, one class: scikit-learn calls that a perfect match
        return 1.0
    seen = joint > 0
    mutual = float(np.sum(joint[seen] * np.log(joint[seen] / np.outer(cluster_p, label_p)[seen])))
    entropies = [-float(np.sum(p * np.log(p))) for p in (cluster_p, label_p)]
    return max(mutual, 0.0) / max(np.mean(entropies), np.finfo(float).eps)


def judged_as(generator: Generator, labels: torch.Tensor) -> np.ndarray:
    return class_groups(generator.class_names)[labels].numpy()


@torch.no_grad()
def predicted_categories(classify, images: torch.Tensor, batch_size: int) -> np.ndarray:
    return torch.cat([classify(batch).argmax(dim=1).cpu() for batch in images.split(batch_size)]).numpy()


@torch.no_grad()
def conditional_accuracy(generator: Generator, judge: Judge, count: int, seed: int, batch_size: int) -> float:
    """The judge's accuracy (on letters, `judges.letters`) on `count` samples drawn class by class, evenly."""
    labels = torch.arange(count) % generator.num_classes
    rng = torch.Generator().manual_seed(seed)
    samples = torch.cat([generator.sample_categories(batch, generator=rng).float().cpu()
                         for batch in labels.split(batch_size)])
    return accuracy(predict(judge, samples, batch_size)[1].argmax(dim=1).numpy(), judged_as(generator, labels))


@torch.no_grad()
def transfer_accuracy(generator: Generator, judge: Judge, test_images: torch.Tensor, count: int,
                      batch_size: int) -> float:
    """The judge's accuracy on alphabets drawn as `python -m glyphgen alphabet` draws them, in the styles of
    count // classes test images."""
    classes = torch.arange(generator.num_classes)
    images = test_images[: max(1, count // len(classes))]
    styles = torch.cat([generator.encode_style(batch.to(generator.device)) for batch in images.split(batch_size)])
    moved, labels = style_in_categories(generator, styles, classes), classes.repeat(len(images))
    drawings = torch.cat([generator.decode_categories(style, label.to(generator.device)).float().cpu()
                          for style, label in zip(moved.split(batch_size), labels.split(batch_size))])
    return accuracy(predict(judge, drawings, batch_size)[1].argmax(dim=1).numpy(), judged_as(generator, labels))


def category_scores(generator: Generator, judge: Judge, train_images: torch.Tensor,
                    train_labels: np.ndarray, test_images: torch.Tensor, test_labels: np.ndarray, count: int,
                    seed: int, batch_size: int) -> dict[str, float]:
    """What the model's categories are worth, as docs/metrics.md lists them."""
    scores = {}
    if generator.conditional:
        scores["conditional_accuracy"] = conditional_accuracy(generator, judge, count, seed, batch_size)
        if hasattr(generator, "encode_style"):  # not the conditional GANs: their style is noise, read from no image
            scores["transfer_accuracy"] = transfer_accuracy(generator, judge, test_images, count, batch_size)
    if generator.categorical_head == "classes":
        scores["categorical_accuracy"] = accuracy(predicted_categories(generator.classify, test_images, batch_size),
                                                  test_labels)
        scores["baseline_accuracy"] = accuracy(
            predicted_categories(generator.baseline_classify, test_images, batch_size), test_labels)
        scores["n_labels"] = generator.config.n_labels
    elif generator.categorical_head == "clusters":
        test_clusters = predicted_categories(generator.classify, test_images, batch_size)
        train_clusters = predicted_categories(generator.classify, train_images, batch_size)
        scores["cluster_accuracy"] = cluster_accuracy(train_clusters, train_labels, test_clusters, test_labels)
        scores["nmi"] = nmi(test_clusters, test_labels)
    return scores
