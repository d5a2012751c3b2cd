import pytest
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation.classifier import (
    ClassifierConfig, GlyphClassifier, accuracy, image_tensor, load_classifier, predict, save_classifier,
)
from glyphgen.params import parse_config


def test_judge_learns_kmnist_from_a_small_slice(judge, kmnist_test):
    logits = predict(judge, image_tensor(kmnist_test))[1]
    assert accuracy(logits, kmnist_test.labels) > 0.4  # chance is 0.1; one short epoch on 2000 images


def test_checkpoint_round_trip_gives_the_same_features(judge, kmnist_test, tmp_path):
    save_classifier(tmp_path / "classifier.pt", judge, 28, ClassifierConfig())
    loaded = load_classifier(tmp_path, image_size=28)
    images = image_tensor(kmnist_test)[:50]
    assert torch.equal(predict(loaded, images)[0], predict(judge, images)[0])
    with pytest.raises(GlyphgenError, match="28px"):
        load_classifier(tmp_path, image_size=64)
    with pytest.raises(GlyphgenError, match="not found"):
        load_classifier(tmp_path / "missing")


def test_the_same_judge_saved_twice_gives_the_same_bytes(judge, tmp_path):
    # DVC hashes the file: equal weights must hash equal, or every evaluate re-runs after a re-trained judge.
    save_classifier(tmp_path / "a" / "classifier.pt", judge, 28, ClassifierConfig())
    save_classifier(tmp_path / "b" / "classifier.pt", judge, 28, ClassifierConfig())
    assert (tmp_path / "a" / "classifier.pt").read_bytes() == (tmp_path / "b" / "classifier.pt").read_bytes()


def test_glyph_sized_images_get_the_same_feature_width():
    model = GlyphClassifier(52).eval()
    assert model.features(torch.rand(3, 1, 64, 64)).shape == (3, 128)
    assert model(torch.rand(3, 1, 64, 64)).shape == (3, 52)


def test_any_image_size_is_judged_as_its_28_px_area_average():
    model = GlyphClassifier(10).eval()
    large = torch.rand(2, 1, 56, 56)
    halved = torch.nn.functional.avg_pool2d(large, 2)  # 56 -> 28: plain 2 x 2 block means
    assert torch.allclose(model.features(large), model.features(halved), atol=1e-6)


def test_bad_classifier_params_name_the_key():
    with pytest.raises(GlyphgenError, match="epochs"):
        parse_config(ClassifierConfig, {"epochs": 0}, "params.yaml:train_classifier.classifier")
