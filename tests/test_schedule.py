import pytest
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.training.schedule import FLOOR, cosine_factor, learning_rates, with_schedule
from glyphgen.training.settings import run_settings


def test_cosine_factor_runs_from_one_down_to_the_floor_and_stays_there():
    factors = [cosine_factor(step, 100) for step in range(0, 201, 10)]
    assert factors[0] == 1.0 and factors[10] == pytest.approx(FLOOR) and factors[-1] == pytest.approx(FLOOR)
    assert factors[:11] == sorted(factors[:11], reverse=True)
    assert cosine_factor(50, 100) == pytest.approx((1 + FLOOR) / 2)


def optimizers() -> dict[str, torch.optim.Optimizer]:
    weights = torch.nn.Linear(2, 2)
    return {"generator": torch.optim.Adam(weights.parameters(), lr=1e-3),
            "discriminator": torch.optim.Adam(weights.parameters(), lr=4e-4)}


@pytest.mark.parametrize("done_steps", [0, 7])  # a fresh run, and one resumed after 7 steps
def test_each_step_runs_at_its_scheduled_rate_for_every_optimiser(done_steps):
    optimisers = optimizers()
    base = learning_rates(optimisers)
    for optimizer in optimisers.values():  # a resumed checkpoint carries decayed rates: the schedule ignores them
        optimizer.param_groups[0]["lr"] = 123.0
    seen = []
    step = with_schedule(lambda images, labels: seen.append(learning_rates(optimisers)), optimisers, base, "cosine",
                         total_steps=20, done_steps=done_steps)
    for _ in range(3):
        step(None, None)
    for offset, rates in enumerate(seen):
        factor = cosine_factor(done_steps + offset, 20)
        assert rates == {"generator": [pytest.approx(1e-3 * factor)], "discriminator": [pytest.approx(4e-4 * factor)]}


def test_a_constant_schedule_leaves_the_step_as_it_is():
    def step(images, labels):
        return {}
    assert with_schedule(step, optimizers(), {}, "constant", 10, 0) is step


def test_the_schedule_is_part_of_a_runs_budget_and_checked():
    params = {"models": {"ae": {"kmnist": {"preset": "default", "epochs": 2, "lr_schedule": "cosine"}}}}
    assert run_settings(params, "ae", "kmnist")[1].lr_schedule == "cosine"
    params["models"]["ae"]["kmnist"]["lr_schedule"] = "linear"
    with pytest.raises(GlyphgenError, match="models.ae.kmnist.*lr_schedule"):
        run_settings(params, "ae", "kmnist")
