import math

import numpy as np
import pytest
import scipy.linalg
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation import metrics
from glyphgen.evaluation.classifier import image_tensor, predict
from glyphgen.evaluation.scorecard import EvaluateConfig, Splits, score_generator, score_references, score_samples
from glyphgen.params import parse_config
from doubles import NoisyCopies, PCAAutoencoder, RepeatedImage

CONFIG = EvaluateConfig(num_samples=1000, batch_size=500)


def direct_frechet(a: np.ndarray, b: np.ndarray) -> float:
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def test_fid_matches_scipy_on_judge_features(judge, judge_features, kmnist_test):
    noisy = (image_tensor(kmnist_test) + 0.2 * torch.randn(len(kmnist_test), 1, 28, 28)).clamp(0, 1)
    fake = predict(judge, noisy)[0]
    ours = metrics.frechet_distance(judge_features.test, fake)
    assert ours == pytest.approx(direct_frechet(judge_features.test.double().numpy(), fake.double().numpy()), rel=1e-3)


def test_fid_of_a_set_with_itself_is_zero(judge_features):
    assert abs(metrics.frechet_distance(judge_features.test, judge_features.test)) < 1e-3


def test_fid_grows_as_real_images_are_noised(judge, judge_features, kmnist_test):
    rng = torch.Generator().manual_seed(0)
    clean = image_tensor(kmnist_test)
    noise = torch.randn(clean.shape, generator=rng)
    fids = [metrics.frechet_distance(judge_features.train, predict(judge, (clean + std * noise).clamp(0, 1))[0])
            for std in (0.0, 0.1, 0.3, 0.6)]
    assert fids == sorted(fids) and fids[-1] > 10 * fids[0], fids


def test_prdc_of_identical_sets_is_perfect_and_of_far_apart_sets_is_zero():
    points = torch.randn(400, 8, generator=torch.Generator().manual_seed(0))
    same = metrics.precision_recall_density_coverage(points, points.clone(), k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = metrics.precision_recall_density_coverage(points, points + 100.0, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_density_is_about_one_for_two_draws_of_one_distribution():
    rng = torch.Generator().manual_seed(1)
    scores = metrics.precision_recall_density_coverage(torch.randn(2000, 4, generator=rng),
                                                       torch.randn(2000, 4, generator=rng), k=5)
    assert 0.85 < scores["density"] < 1.15 and scores["coverage"] > 0.9


def test_class_coverage_of_uniform_and_single_class_predictions():
    uniform = metrics.class_coverage(torch.eye(10).repeat(5, 1))
    assert uniform["class_entropy"] == pytest.approx(1.0) and uniform["class_kl_uniform"] == pytest.approx(0.0)
    assert uniform["classes_present"] == 1.0
    single = metrics.class_coverage(torch.eye(10)[[3] * 50])
    assert single["class_entropy"] == pytest.approx(0.0) and single["class_kl_uniform"] == pytest.approx(math.log(10))
    assert single["classes_present"] == pytest.approx(0.1)


@pytest.fixture(scope="module")
def splits(judge_features, kmnist_train, kmnist_test) -> Splits:
    return Splits(judge_features, image_tensor(kmnist_train), image_tensor(kmnist_test))


def test_collapsed_generator_scores_low_coverage_and_class_entropy(judge, splits):
    images = splits.train_images
    collapsed = score_samples(judge, RepeatedImage(images[0]).sample(1000), splits.features.test, splits, CONFIG)
    healthy = score_samples(judge, NoisyCopies(images, 0.05).sample(1000), splits.features.test, splits, CONFIG)
    assert collapsed["coverage"] < 0.05 < 0.5 < healthy["coverage"]
    assert collapsed["class_entropy"] == 0.0 and healthy["class_entropy"] > 0.9
    assert collapsed["classes_present"] == pytest.approx(0.1)
    assert collapsed["fid"] > 5 * healthy["fid"]


def test_memorisation_flags_copies_of_training_images_not_noise_or_blur(judge, splits):
    copies = score_samples(judge, NoisyCopies(splits.train_images, 0.02).sample(1000), splits.features.test, splits,
                           CONFIG)
    # Averages of 4 training images: the blur a weak autoencoder draws, near no single training image.
    averages = splits.train_images[:2000].reshape(500, 4, 1, 28, 28).mean(dim=1)
    blurry = score_samples(judge, averages, splits.features.test, splits, CONFIG)
    references = score_references(judge, splits, CONFIG)
    assert copies["memorisation_rate"] > 0.5
    assert blurry["memorisation_rate"] < CONFIG.memorisation_quantile
    assert references["real_test"]["memorisation_rate"] == pytest.approx(CONFIG.memorisation_quantile, abs=0.01)
    assert references["pixel_noise"]["memorisation_rate"] < CONFIG.memorisation_quantile


def test_references_sit_either_side_of_a_model(judge, splits):
    references = score_references(judge, splits, CONFIG)
    model = score_generator(PCAAutoencoder(splits.train_images, latent_dim=8), judge, splits, CONFIG)
    assert references["real_test"]["fid"] < model["fid"] < references["pixel_noise"]["fid"]
    # Not precision or density: on a weak judge, noise features bunch up inside the real balls.
    assert references["real_test"]["coverage"] > model["coverage"] > references["pixel_noise"]["coverage"]


def test_encoder_models_get_reconstruction_and_prior_scores(judge, splits):
    test_images = splits.test_images
    autoencoder = score_generator(PCAAutoencoder(splits.train_images), judge, splits, CONFIG)
    assert 0 < autoencoder["reconstruction_mse"] < 0.2 and autoencoder["reconstruction_bce"] > 0
    assert autoencoder["prior_kl"] < 0.2  # its codes are scaled to unit variance on the train split
    copier = score_generator(RepeatedImage(test_images[0]), judge, splits, CONFIG)
    assert "reconstruction_mse" not in copier and "prior_kl" not in copier


def test_reconstruction_of_identity_is_perfect():
    images = torch.rand(20, 1, 28, 28)
    assert metrics.reconstruction_errors(lambda x: x, images)["reconstruction_mse"] < 1e-10


def test_prior_fit_is_zero_for_prior_draws_and_grows_with_a_shift():
    rng = torch.Generator().manual_seed(0)
    codes = torch.randn(4000, 2, generator=rng)
    assert metrics.gaussian_kl_to_standard(codes) < 0.01
    assert metrics.gaussian_kl_to_standard(codes + 1.0) == pytest.approx(1.0, abs=0.05)  # 0.5 * |mean|^2
    assert abs(metrics.mmd_to_standard(codes[:1000], rng)) < 0.01 < metrics.mmd_to_standard(codes[:1000] + 1.0, rng)


def test_bad_evaluate_params_name_the_key():
    with pytest.raises(GlyphgenError, match=r"params.yaml:evaluate.nearest_k"):
        parse_config(EvaluateConfig, {"nearest_k": 0}, "params.yaml:evaluate")
    with pytest.raises(GlyphgenError, match="unknown key 'samples'"):
        parse_config(EvaluateConfig, {"samples": 10}, "params.yaml:evaluate")
