"""Train every judge of one data set; save each with its features of the test split, and their test accuracies.

Usage: python stages/train_judges.py <dataset>
Writes models/<dataset>/judges/<judge>/{judge.pt,features.npz} and metrics/<dataset>/judges.json.
"""

import sys
import time

from glyphgen.evaluation.judges import (
    CHECKPOINT_NAME, FEATURES_NAME, JudgeConfig, accuracy, image_tensor, letters, predict, save_judge, train_judge,
)
from glyphgen.evaluation.scorecard import JudgeFeatures
from glyphgen.io import load_image_set, write_json
from glyphgen.params import get_section, load_judge_names, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.device import pick_device


def judge_config(params: dict, name: str, dataset: str) -> JudgeConfig:
    """A judge's section, with `epochs` read for this data set (epochs: {kmnist: 3, glyphs: 4})."""
    where = f"params.yaml:train_judges.judges.{name}"
    section = dict(get_section(params, f"train_judges.judges.{name}") or {})
    if "epochs" in section:
        section["epochs"] = get_section(section, f"epochs.{dataset}", where)
    return parse_config(JudgeConfig, section, where)


def main() -> dict[str, float]:
    dataset = sys.argv[1]
    params = load_params()
    names = load_judge_names(params)
    configs = {name: judge_config(params, name, dataset) for name in names}
    device = pick_device(get_section(params, "train_judges.device"))
    train_set = load_image_set(f"data/processed/{dataset}/train.npz")
    test_set = load_image_set(f"data/processed/{dataset}/test.npz")

    accuracies, seconds = {}, {}
    for name, config in configs.items():
        started = time.perf_counter()
        model = train_judge(name, train_set, config, device).cpu()
        seconds[f"{name}_seconds"] = round(time.perf_counter() - started, 1)
        test_features, test_logits = predict(model, image_tensor(test_set))
        accuracies[name] = {"test_accuracy": accuracy(test_logits, letters(test_set).labels)}
        print(f"{dataset} judge {name}: test accuracy {accuracies[name]['test_accuracy']:.4f}, "
              f"trained in {seconds[f'{name}_seconds']:.0f} s")
        out_dir = f"models/{dataset}/judges/{name}"
        save_judge(f"{out_dir}/{CHECKPOINT_NAME}", name, model, train_set.image_size, config)
        JudgeFeatures(test_features).save(f"{out_dir}/{FEATURES_NAME}")
    # Training times go to timings/, not to the metrics: same inputs, same bytes, so DVC re-runs nothing.
    write_json(f"metrics/{dataset}/judges.json", accuracies)
    return seconds


if __name__ == "__main__":
    run_stage(main)
