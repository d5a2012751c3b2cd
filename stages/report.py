"""The comparison page for all models x data sets: reports/index.html and reports/metrics.md.

Usage: python stages/report.py
"""

from dataclasses import dataclass, field

from glyphgen.io import atomic_path
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.rendering.report import html_page, markdown_table, metrics_table
from glyphgen.stage import run_stage

PAGE = "reports/index.html"


@dataclass
class PipelineParams:
    # Also the matrices of the train, train_classifier, evaluate and render stages in dvc.yaml.
    datasets: list[str] = field(default_factory=lambda: ["kmnist", "glyphs"])
    models: list[str] = field(default_factory=lambda: ["ae", "conv_ae", "vae", "aae", "aae_supervised", "aae_semi",
                                                       "aae_cluster", "gan", "dcgan", "wgan_gp"])


def main() -> None:
    params = parse_config(PipelineParams, get_section(load_params(), "pipeline"), "params.yaml:pipeline")
    table = metrics_table("metrics", params.datasets, params.models)
    page = html_page(table, "reports/renders", PAGE, params.models)
    with atomic_path(PAGE) as tmp:
        tmp.write_text(page, encoding="utf-8")
    with atomic_path("reports/metrics.md") as tmp:
        tmp.write_text(markdown_table(table), encoding="utf-8")
    print(markdown_table(table))


if __name__ == "__main__":
    run_stage(main)
