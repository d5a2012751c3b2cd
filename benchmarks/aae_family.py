"""Train one model of the adversarial autoencoder family with the training loop and print its category scores.

    PYTHONPATH=src python benchmarks/aae_family.py aae_semi kmnist --epochs 3 --set n_labels=100

Reads data/processed/<dataset>/{train,test}.npz; trains the default preset (with --set overrides, values as YAML)
in a temporary folder; prints the training seconds and, for aae_semi, the categorical head's and the
baseline's test accuracy, for aae_cluster the cluster accuracy and NMI. Conditional accuracy needs the judge:
see the evaluate stage.
"""

import argparse
import tempfile

import torch
import yaml

from glyphgen.evaluation.categories import accuracy, cluster_accuracy, nmi, predicted_categories
from glyphgen.evaluation.judges import image_tensor
from glyphgen.io import load_image_set
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.models.shared.adversarial_autoencoder import StyleCategoryAutoencoder
from glyphgen.params import load_params, load_pipeline
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.loop import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=[name for name in MODEL_NAMES
                                          if issubclass(model_class(name), StyleCategoryAutoencoder)])
    parser.add_argument("dataset", choices=load_pipeline(load_params()).datasets)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--set", action="append", default=[], help="key=value override of the default preset")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    overrides = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    config = model_class(args.model).config_from_params("default", overrides, "--set")
    train_set = load_image_set(f"data/processed/{args.dataset}/train.npz")
    test_set = load_image_set(f"data/processed/{args.dataset}/test.npz")
    with tempfile.TemporaryDirectory() as tmp:
        timing = train(args.model, config, train_set, args.epochs, TrainConfig(threads=args.threads), f"{tmp}/model",
                       f"{tmp}/work", f"{tmp}/live")
        model = load_generator(f"{tmp}/model")  # rebuilt from its checkpoint, as the stages do
    print(f"{args.model} on {args.dataset}, {args.epochs} epochs, {overrides or 'defaults'}: {timing}")
    with torch.no_grad():
        test_images, test_labels = image_tensor(test_set), test_set.labels
        if model.categorical_head == "classes":
            head = accuracy(predicted_categories(model.classify, test_images, 1000), test_labels)
            baseline = accuracy(predicted_categories(model.baseline_classify, test_images, 1000), test_labels)
            print(f"categorical accuracy {head:.4f}, baseline {baseline:.4f}")
        elif model.categorical_head == "clusters":
            test_clusters = predicted_categories(model.classify, test_images, 1000)
            train_clusters = predicted_categories(model.classify, image_tensor(train_set), 1000)
            score = cluster_accuracy(train_clusters, train_set.labels, test_clusters, test_labels)
            print(f"cluster accuracy {score:.4f}, NMI {nmi(test_clusters, test_labels):.4f}")


if __name__ == "__main__":
    main()
