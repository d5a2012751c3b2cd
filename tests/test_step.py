"""The training step as the loop builds it (step_function, run_epoch) on the CPU: every path that needs no CUDA
device. The CUDA graph itself (GraphedStep) runs only on a GPU: scripts/gpu_check.sh checks it there."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from glyphgen.models import model_class
from glyphgen.models.shared.blocks import prior_noise
from glyphgen.models.shared.code_mixture import CodeMixture
from glyphgen.training import device as device_module
from glyphgen.training.device import autocast, pick_device, place
from glyphgen.training.loop import TrainConfig, run_epoch
from glyphgen.training.step import GraphedStep, capturable, step_function
from tiny_models import tiny_model

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


def batches(count: int, batch_size: int = 8, side: int = 28):
    generator = torch.Generator().manual_seed(0)
    return [(torch.rand(batch_size, 1, side, side, generator=generator), torch.zeros(batch_size, dtype=torch.long))
            for _ in range(count)]


def trained_losses(name: str, compile_mode: str, steps: int = 3) -> list[float]:
    torch.manual_seed(0)
    model = place(tiny_model(name), CPU)
    step = step_function(model, model.configure_optimizers(), CPU, TrainConfig(device="cpu", compile=compile_mode))
    return [float(step(images, labels)["loss"]) for images, labels in batches(steps)]


@pytest.mark.parametrize("mode", ["none", "cuda-graph", "reduce-overhead"])
def test_on_the_cpu_every_mode_but_compile_is_the_eager_step(mode):
    model = place(tiny_model("ae"), CPU)
    step = step_function(model, model.configure_optimizers(), CPU, TrainConfig(device="cpu", compile=mode))
    assert not isinstance(step, GraphedStep)
    if mode != "reduce-overhead":  # reduce-overhead compiles on the CPU too (see the next test)
        assert trained_losses("ae", mode) == trained_losses("ae", "none")


@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("cc") is None, reason="inductor needs a C++ compiler")
def test_compile_on_the_cpu_trains_as_the_eager_step_does():
    torch._dynamo.reset()
    compiled = trained_losses("ae", "default")
    assert compiled == pytest.approx(trained_losses("ae", "none"), rel=1e-4)


def test_models_that_average_their_weights_are_not_captured():
    assert capturable(tiny_model("ae")) and capturable(tiny_model("vae"))
    assert not capturable(tiny_model("gan"))  # ema_decay > 0: AveragedModel syncs with the host
    assert capturable(tiny_model("gan", ema_decay=0.0))


def test_run_epoch_reads_the_losses_back_every_log_every_steps_and_after_the_last():
    calls = []
    losses = iter(range(1, 8))

    def train_step(images, labels):
        return {"loss": torch.tensor(float(next(losses)))}

    step = run_epoch(train_step, batches(7), 10, 4, lambda means, step, steps: calls.append((means, step, steps)))
    # steps 11..17: the read-back at step 12 (a multiple of 4) averages 2 steps, 16 the next 4, 17 the last one
    assert step == 17
    assert calls == [({"loss": 1.5}, 12, 2), ({"loss": 4.5}, 16, 4), ({"loss": 7.0}, 17, 1)]


def test_autocast_is_bf16_on_cuda_without_its_weight_cache_when_captured():
    assert isinstance(autocast(CPU), contextlib.nullcontext)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a CPU-only build warns that CUDA autocast is unavailable
        assert isinstance(autocast(torch.device("cuda"), enabled=False), contextlib.nullcontext)
        context = autocast(torch.device("cuda"), cache_enabled=False)
    assert isinstance(context, torch.autocast)
    assert context.fast_dtype == torch.bfloat16 and context._cache_enabled is False


def test_auto_takes_cuda_when_present(monkeypatch):
    assert pick_device("auto") == (torch.device("cuda") if torch.cuda.is_available() else CPU)
    monkeypatch.setattr(device_module.torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda")


def test_seeded_noise_is_drawn_where_the_generator_lives_and_moved_to_the_model():
    # The meta device stands in for a GPU: a seeded CPU generator gives the CPU's codes whatever the model's device.
    codes = prior_noise(5, 3, torch.device("meta"), torch.Generator().manual_seed(1))
    assert codes.device.type == "meta" and codes.shape == (5, 3)
    assert torch.equal(prior_noise(5, 3, CPU, torch.Generator().manual_seed(1)),
                       torch.randn(5, 3, generator=torch.Generator().manual_seed(1)))
    mixture = CodeMixture(3, 2)
    mixture.fit(torch.randn(200, 3, generator=torch.Generator().manual_seed(0)), seed=0)
    first = mixture.sample(7, torch.Generator().manual_seed(2))
    assert torch.equal(first, mixture.sample(7, torch.Generator().manual_seed(2)))


class Loaded(Exception):
    """Raised by the stand-in load_generator, carrying the device it was asked for."""


@pytest.mark.parametrize("stage", ["evaluate", "render"])
def test_evaluate_and_render_load_the_generator_on_the_device_auto_picks(stage, monkeypatch):
    spec = importlib.util.spec_from_file_location(f"stage_{stage}", REPO / "stages" / f"{stage}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    asked = []
    monkeypatch.setattr(module, "pick_device", lambda name: asked.append(name) or torch.device("meta"))

    def load_generator(path, device, image_size=None):
        raise Loaded(device)

    monkeypatch.setattr(module, "load_generator", load_generator)
    # evaluate's inputs: not needed to reach the generator
    if hasattr(module, "scoring_inputs"):
        monkeypatch.setattr(module, "scoring_inputs", lambda *args: (None, SimpleNamespace(image_size=28),
                                                                     SimpleNamespace(judges={"cnn": None})))
    if hasattr(module, "ReferenceStats"):
        monkeypatch.setattr(module.ReferenceStats, "load", lambda *args: None)
    for name in ("image_tensor", "load_image_set"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, lambda *args: torch.zeros(2, 1, 28, 28))
    monkeypatch.setattr(module.sys, "argv", [stage, "kmnist", "vae"])
    monkeypatch.chdir(REPO)
    with pytest.raises(Loaded) as loaded, torch.enable_grad():  # the stages turn gradients off: restore them after
        module.main()
    assert asked == ["auto"] and loaded.value.args[0] == torch.device("meta")


def test_the_cpu_keeps_nchw_for_a_model_with_a_conv_wider_than_256_channels():
    def layouts(model):
        convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1]
        return {weight.is_contiguous(memory_format=torch.channels_last) for weight in convs}

    dcgan = model_class("dcgan")
    reference = place(dcgan(dcgan.presets["reference"], 28, 10), CPU)  # a 256 -> 512 conv in its discriminator
    assert layouts(reference) == {False}
    assert layouts(place(dcgan(dcgan.presets["default"], 28, 10), CPU)) == {True}
