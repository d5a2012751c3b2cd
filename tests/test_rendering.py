import numpy as np
import pandas as pd
import pytest
from PIL import Image

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation.judges import image_tensor
from glyphgen.rendering.curves import logged_series, plot_loss_curves
from glyphgen.rendering.morph import morph_frames, save_gif
from glyphgen.io import ImageSet
from glyphgen.rendering.panels import latent_manifold, reconstruction_pairs, sample_grid
from glyphgen.rendering.preview import data_preview
from doubles import NoisyCopies, PCAAutoencoder


@pytest.fixture(scope="module")
def autoencoder(kmnist_train):
    return PCAAutoencoder(image_tensor(kmnist_train), latent_dim=2)


def test_sample_grid_is_fixed_by_its_seed(kmnist_train):
    generator = NoisyCopies(image_tensor(kmnist_train), 0.1)
    first, again, other = (sample_grid(generator, 4, seed) for seed in (0, 0, 1))
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert first.shape == (4 * 30 + 2, 4 * 30 + 2)


def test_reconstruction_pairs_put_inputs_over_outputs(autoencoder, kmnist_test):
    images = image_tensor(kmnist_test)[:5]
    picture = reconstruction_pairs(autoencoder, images)
    assert picture.shape == (2 * 30 + 2, 5 * 30 + 2)
    assert np.array_equal(picture[2:30, 2:30], kmnist_test.images[0])


def test_latent_manifold_changes_across_the_grid(autoencoder, kmnist_test):
    picture = latent_manifold(autoencoder, 5, image_tensor(kmnist_test))
    assert picture.shape == (5 * 30 + 2, 5 * 30 + 2)
    assert not np.array_equal(picture[2:30, 2:30], picture[-30:-2, -30:-2])


def test_morph_starts_and_ends_near_the_two_glyphs(autoencoder, kmnist_test, tmp_path):
    images = image_tensor(kmnist_test)
    frames = morph_frames(autoencoder, 6, images[0], images[1], seed=0)
    expected = [autoencoder.reconstruct(images[i : i + 1])[0, 0].mul(255).round().numpy() for i in (0, 1)]
    assert np.abs(frames[0] - expected[0]).max() <= 1 and np.abs(frames[-1] - expected[1]).max() <= 1
    save_gif(tmp_path / "morph.gif", frames, scale=2)
    with Image.open(tmp_path / "morph.gif") as gif:
        assert gif.n_frames == 2 * 6 - 2 and gif.size == (56, 56)


def test_loss_curves_read_the_dvclive_layout(tmp_path):
    live = tmp_path / "live"
    for name in ("train/loss", "train/discriminator"):
        path = live / "plots" / "metrics" / f"{name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"timestamp": [0, 1, 2], "step": [0, 1, 2], name.split("/")[1]: [3.0, 2.0, 1.5]}).to_csv(
            path, sep="\t", index=False)
    series = logged_series(live)
    assert sorted(series) == ["train/discriminator", "train/loss"]
    assert series["train/loss"] == ([0.0, 1.0, 2.0], [3.0, 2.0, 1.5])
    plot_loss_curves(live, tmp_path / "losses.png", "test")
    with Image.open(tmp_path / "losses.png") as picture:
        assert picture.width > 200


def test_loss_curves_of_a_model_without_logs_are_an_error_naming_the_folder(tmp_path):
    with pytest.raises(GlyphgenError, match=r"untrained/plots/metrics: no dvclive loss logs"):
        plot_loss_curves(tmp_path / "untrained", tmp_path / "losses.png", "test")
    assert not (tmp_path / "losses.png").exists()


def test_a_preview_of_many_classes_lays_their_rows_out_in_blocks_near_square():
    classes, columns, side = 52, 10, 8
    labels = np.repeat(np.arange(classes), columns)
    images = (labels[:, None, None] + 1).repeat(side, 1).repeat(side, 2).astype(np.uint8)  # each class its own grey
    picture = data_preview(ImageSet(images, labels, [str(label) for label in range(classes)]), columns, seed=0)
    assert 0.5 < picture.shape[0] / picture.shape[1] < 2  # not a 52-row strip
    block_width = columns * (side + 2) + 2
    first_tiles = picture[2::side + 2, 2][:classes // 2]  # the first column of the first block: rows 1..26
    assert list(first_tiles) == list(range(1, classes // 2 + 1))
    assert picture[2, picture.shape[1] - block_width + 2] == classes // 2 + 1  # the second block starts at row 27
