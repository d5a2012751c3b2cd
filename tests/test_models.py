import subprocess
import sys
from pathlib import Path

import pytest
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.training.checkpoint import load_generator, save_checkpoint
from glyphgen.training.device import place
from glyphgen.training.settings import run_settings
from tiny_models import kmnist_slice, tiny_config, tiny_model

NAMES = MODEL_NAMES
MODELS_DIR = Path(__file__).resolve().parents[1] / "src" / "glyphgen" / "models"


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.from_numpy(kmnist_slice(64).images).unsqueeze(1).float() / 255


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("image_size", [28, 64])
def test_shapes_at_both_image_sizes(name, image_size):
    torch.manual_seed(0)
    model = tiny_model(name, image_size)
    samples = model.draw(3, seed=0)
    assert samples.shape == (3, 1, image_size, image_size)
    assert 0 <= samples.min() and samples.max() <= 1
    if model.has_encoder:
        images = torch.rand(5, 1, image_size, image_size)
        assert model.encode(images).shape == (5, model.latent_dim)
        assert model.reconstruct(images).shape == images.shape


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("preset", ["default", "reference"])
def test_presets_build_at_both_sizes(name, preset):
    for image_size in (28, 64):
        model = model_class(name)(model_class(name).presets[preset], image_size, num_classes=10)
        assert model.draw(2, seed=0).shape == (2, 1, image_size, image_size)


@pytest.mark.parametrize("name", NAMES)
def test_training_steps_lower_the_loss_on_a_fixed_batch(name, batch):
    torch.manual_seed(0)
    model = tiny_model(name, lr=3e-3)
    optimizers = model.configure_optimizers()
    losses = [model.train_step(batch, torch.zeros(len(batch)), optimizers)["loss"].item() for _ in range(15)]
    assert sum(losses[-3:]) < sum(losses[:3]), losses


@pytest.mark.parametrize("name", NAMES)
def test_save_and_load_give_identical_outputs(name, batch, tmp_path):
    torch.manual_seed(0)
    model = place(tiny_model(name), torch.device("cpu"))  # laid out as the loop and load_generator lay it out
    optimizers = model.configure_optimizers()
    model.train_step(batch, torch.zeros(len(batch)), optimizers)  # move BatchNorm statistics off their init
    save_checkpoint(tmp_path / "model.pt", model)
    loaded = load_generator(tmp_path, "cpu")
    assert type(loaded) is type(model) and loaded.config == model.config
    assert torch.equal(loaded.draw(4, seed=1), model.draw(4, seed=1))
    if model.has_encoder:
        model.eval()
        assert torch.equal(loaded.reconstruct(batch[:4]), model.reconstruct(batch[:4]))


@pytest.mark.parametrize("name", NAMES)
def test_sampling_is_deterministic_under_a_seed(name):
    model = tiny_model(name)
    assert torch.equal(model.draw(4, seed=7), model.draw(4, seed=7))
    assert not torch.equal(model.draw(4, seed=7), model.draw(4, seed=8))


def test_bad_model_params_name_the_key():
    with pytest.raises(GlyphgenError, match=r"models\.vae: unknown key 'latent'"):
        model_class("vae").config_from_params("default", {"latent": 3}, "params.yaml:models.vae")
    with pytest.raises(GlyphgenError, match=r"models\.gan\.hidden: expected a list"):
        model_class("gan").config_from_params("default", {"hidden": "big"}, "params.yaml:models.gan")
    with pytest.raises(GlyphgenError, match=r"models\.ae\.preset: expected one of"):
        model_class("ae").config_from_params("huge", {}, "params.yaml:models.ae")
    with pytest.raises(GlyphgenError, match=r"dcgan\.upsample: expected one of"):
        tiny_config("dcgan", upsample="bicubic")


def test_denoising_autoencoder_trains_on_noised_inputs(batch):
    plain, denoising = tiny_model("conv_ae"), tiny_model("conv_ae", denoise=True, noise_std=0.3)
    assert torch.equal(plain.corrupt(batch), batch)
    noised = denoising.corrupt(batch)
    assert noised.shape == batch.shape and not torch.equal(noised, batch)
    assert 0 <= noised.min() and noised.max() <= 1


def test_reference_presets_keep_the_recipes_batch_sizes():
    assert model_class("gan").presets["reference"].batch_size == 128
    assert model_class("aae").presets["reference"].batch_size == 16


@pytest.mark.parametrize("name", ["gan", "dcgan"])
def test_weight_averaging_samples_from_the_average_not_the_latest_generator(name, batch):
    torch.manual_seed(0)
    averaged, plain = tiny_model(name, ema_decay=0.9, conditional=False), tiny_model(name, ema_decay=0.0)
    assert plain.average_generator is None
    optimizers = averaged.configure_optimizers()
    for _ in range(3):
        averaged.train_step(batch, torch.zeros(len(batch), dtype=torch.long), optimizers)
    average, latest = averaged.average_generator.module, averaged.generator
    assert averaged.average_generator.n_averaged.item() == 3
    assert not all(torch.equal(a, b) for a, b in zip(average.parameters(), latest.parameters()))
    codes = torch.randn(4, averaged.latent_dim)
    averaged.eval()
    with torch.no_grad():
        assert torch.allclose(averaged.decode(codes), (average(codes) + 1) / 2)


def test_reference_presets_sample_from_the_trained_generator():
    assert all(model_class(name).presets["reference"].ema_decay == 0 for name in ("gan", "dcgan"))


def test_every_registered_name_is_one_file_defining_that_model():
    assert sorted(path.stem for path in MODELS_DIR.glob("*.py") if path.stem != "__init__") == sorted(MODEL_NAMES)
    for name in MODEL_NAMES:
        assert model_class(name).name == name


def test_an_unknown_model_name_is_a_one_line_error():
    with pytest.raises(GlyphgenError, match=r"^params.yaml:pipeline.models: unknown model 'vea' \(expected one of: "):
        model_class("vea", "params.yaml:pipeline.models")


def test_loading_one_model_imports_its_own_file_and_no_other_model():
    # dvc.yaml's train@<dataset>-<model> depends on models/<model>.py and models/shared/ only: that holds while
    # the registry imports nothing else.
    code = "import sys; from glyphgen.models import model_class; model_class('dcgan'); " \
           "print(sorted(m for m in sys.modules if m.startswith('glyphgen.models.')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(MODELS_DIR.parents[1]), "PATH": "/usr/bin:/bin"})
    loaded = eval(result.stdout)
    assert [name for name in loaded if not name.startswith("glyphgen.models.shared")] == ["glyphgen.models.dcgan"]


# Every residue of the side modulo 8 (what the conv stacks care about), and both ends of convert_glyphs' range.
IMAGE_SIZES = [16, 17, 18, 20, 24, 28, 30, 31, 64, 100, 255, 256]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("image_size", IMAGE_SIZES)
def test_every_image_size_trains_or_is_refused_in_one_line_before_training(name, image_size):
    try:
        model = tiny_model(name, image_size)
    except GlyphgenError as error:  # from the constructor, before the loop writes anything
        assert str(image_size) in str(error) and "\n" not in str(error)
        return
    images = torch.rand(2, 1, image_size, image_size)
    model.train_step(images, torch.zeros(2, dtype=torch.long), model.configure_optimizers())
    assert model.draw(2, seed=0).shape == images.shape
    if model.has_encoder:
        assert model.eval().reconstruct(images).shape == images.shape


@pytest.mark.parametrize("name, key, value, expected", [
    ("ae", "latent_dim", 0, "a value > 0"),
    ("vae", "lr", -1e-3, "a value > 0"),
    ("gan", "batch_size", 0, "a value > 0"),
    ("conv_ae", "channels", [8, 0], "a value > 0 for every item"),
    ("aae", "beta1", 1.0, "a value in [0, 1)"),
    ("dcgan", "dropout", 1.0, "a value in [0, 1)"),
    ("vae", "kl_weight", -1.0, "a value >= 0"),
])
def test_values_that_make_no_sense_are_one_line_errors_naming_the_key(name, key, value, expected):
    params = {"models": {name: {"kmnist": {"preset": "default", "epochs": 1, key: value}}}}
    with pytest.raises(GlyphgenError) as error:
        run_settings(params, name, "kmnist")
    assert str(error.value) == f"params.yaml:models.{name}.kmnist: {key}: expected {expected}, got {value!r}"


def test_a_checkpoint_whose_weights_do_not_fit_its_model_is_a_one_line_error(tmp_path):
    model = tiny_model("vae")
    save_checkpoint(tmp_path / "shapes" / "model.pt", model)
    checkpoint = torch.load(tmp_path / "shapes" / "model.pt", weights_only=True)
    checkpoint["config"]["hidden"] = 16  # the weights were trained with 8
    torch.save(checkpoint, tmp_path / "shapes" / "model.pt")
    with pytest.raises(GlyphgenError) as error:
        load_generator(tmp_path / "shapes", "cpu")
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'shapes'}: its weights do not fit the vae its config describes (size "
                              f"mismatch for encoder.") and "\n" not in message and "problems in all" in message
    del checkpoint["state_dict"]
    torch.save(checkpoint, tmp_path / "keys.pt")
    with pytest.raises(GlyphgenError, match=rf"^{tmp_path / 'keys.pt'}: not a glyphgen checkpoint \(missing state"):
        load_generator(tmp_path / "keys.pt", "cpu")


@pytest.mark.parametrize("name", NAMES)
def test_a_models_dataclass_defaults_are_its_default_preset(name):
    # One default per knob: the dataclass and the `default` preset are one layer; params.yaml overrides per run.
    generator_class = model_class(name)
    assert generator_class.presets["default"] == generator_class.config_class()


def test_aae_supervised_infers_the_class_that_redraws_the_image_best(batch):
    torch.manual_seed(0)
    model = tiny_model("aae_supervised").eval()
    images = batch[:8]
    with torch.no_grad():
        logits = model.classify(images)
        style = model.encode_style(images)
        for category in range(model.categories):
            drawn = model.decode_categories(style, torch.full((len(images),), category))
            loss = torch.nn.functional.binary_cross_entropy(drawn, images, reduction="none").flatten(1).mean(1)
            assert torch.allclose(logits[:, category], -loss, atol=1e-4)
        codes = model.encode(images)
    assert model.has_encoder and codes.shape == (8, model.latent_dim)
    assert torch.equal(codes[:, model.style_dim:].argmax(1), logits.argmax(1))
