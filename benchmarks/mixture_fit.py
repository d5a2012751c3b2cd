"""Cost and quality of the code-mixture fit that ends each autoencoder's training, at several EM tolerances.

For a trained model that samples from a code mixture (ae, conv_ae, vae, aae), encodes the 10,000 training images
the training loop fits on, fits the mixture at each tolerance (one thread, as the loop does), and prints EM
iterations, CPU seconds of the fit, and the first judge's FID and class entropy on 10,000 decoded draws. Reads
data/processed/<dataset>/, models/<dataset>/judges/ and models/<dataset>/<model>/ (run make repro first).

Usage: PYTHONPATH=src python benchmarks/mixture_fit.py --dataset kmnist --model conv_ae [--tol 1e-3 1e-2]
"""

import argparse
import time
from pathlib import Path

import torch

from glyphgen.evaluation import metrics
from glyphgen.evaluation.judges import predict
from glyphgen.evaluation.scorecard import EvaluateConfig, Panel
from glyphgen.io import load_image_set
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.models.shared.code_mixture import CodeMixture, SamplesFromCodeMixture
from glyphgen.params import load_judge_names, load_params, load_pipeline
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.loop import FINAL_FIT_IMAGES

REPO = Path(__file__).resolve().parents[1]


def training_codes(model, dataset: str, seed: int) -> torch.Tensor:
    """The codes of the images the training loop's final fit uses (same count, same seeded choice)."""
    images = torch.from_numpy(load_image_set(REPO / "data" / "processed" / dataset / "train.npz").images)
    chosen = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:FINAL_FIT_IMAGES]
    with torch.no_grad():
        return torch.cat([model.encode(images[index, None].float().div(255)) for index in chosen.split(500)])


def fitted_mixture(codes: torch.Tensor, components: int, tol: float, seed: int) -> tuple[CodeMixture, int, float]:
    """The mixture CodeMixture.fit makes at the given tolerance, with its EM iterations and CPU seconds."""
    mixture = CodeMixture(codes.shape[1], components)
    started = time.process_time()
    iterations = mixture.fit(codes, seed, tol=tol)
    return mixture, iterations, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="kmnist", choices=load_pipeline(load_params()).datasets)
    parser.add_argument("--model", default="conv_ae",
                        choices=[name for name in MODEL_NAMES if issubclass(model_class(name), SamplesFromCodeMixture)])
    parser.add_argument("--tol", type=float, nargs="+", default=[1e-3, 1e-2])
    parser.add_argument("--seed", type=int, default=0, help="train.seed of the run")
    args = parser.parse_args()
    torch.set_num_threads(1)

    models = REPO / "models" / args.dataset
    model = load_generator(models / args.model).eval()
    judge_name = load_judge_names(load_params())[0]
    panel = Panel.load(models / "judges", [judge_name], model.image_size)
    judge, test_features = panel.judges[judge_name], panel.features[judge_name].test
    codes = training_codes(model, args.dataset, args.seed)
    print(f"{args.dataset} {args.model}: {len(codes)} codes of {codes.shape[1]} dims, "
          f"{len(model.codes.weights)} components")
    print(f"{'tol':>8} {'iterations':>10} {'fit CPU s':>10} {'FID':>7} {'class entropy':>14}")
    for tol in args.tol:
        mixture, iterations, seconds = fitted_mixture(codes, len(model.codes.weights), tol, args.seed)
        draws = torch.Generator().manual_seed(0)
        with torch.no_grad():
            samples = torch.cat([model.decode(mixture.sample(1000, draws)) for _ in range(10)])
        features, logits = predict(judge, samples)
        fid = metrics.frechet_distance(test_features, features)
        calls = metrics.confident_calls(logits, EvaluateConfig.confidence)
        entropy = metrics.class_coverage(*calls, logits.shape[1])["class_entropy"]
        print(f"{tol:>8g} {iterations:>10d} {seconds:>10.2f} {fid:>7.1f} {entropy:>14.3f}")


if __name__ == "__main__":
    main()
