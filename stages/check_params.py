"""Stage check_params: every value of params.yaml that a stage of the pipeline reads, checked before any stage
runs (glyphgen.check_params says why), so a bad one removes no output. Every other stage comes after it.

Writes data/params_checked: the same bytes whenever the params are valid, so no stage re-runs because of it.
"""

from glyphgen.check_params import check_params
from glyphgen.io import atomic_path
from glyphgen.evaluation.judges import architecture
from glyphgen.params import load_judge_names, load_params, load_pipeline
from glyphgen.stage import run_stage

import train_judges  # the stage script beside this one (its section is read per judge and data set)

MARK = "data/params_checked"


def main() -> None:
    params = load_params()
    check_params(params)
    for dataset in load_pipeline(params).datasets:
        for name in load_judge_names(params):
            architecture(name)
            train_judges.judge_config(params, name, dataset)
    with atomic_path(MARK) as tmp:
        tmp.write_text("params.yaml: every value the stages read is valid (stages/check_params.py)\n", encoding="utf-8")
    print("params.yaml: every value the stages read is valid")


if __name__ == "__main__":
    run_stage(main)
