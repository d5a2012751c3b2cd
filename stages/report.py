"""The comparison page for all models x data sets: reports/index.html and reports/metrics.md.

Usage: python stages/report.py
"""

from glyphgen.io import atomic_path
from glyphgen.params import load_judge_names, load_params, load_pipeline
from glyphgen.rendering.report import html_page, markdown_report, metrics_table, read_sanity
from glyphgen.stage import run_stage

PAGE = "reports/index.html"


def main() -> None:
    params = load_params()
    pipeline, judges = load_pipeline(params), load_judge_names(params)
    table = metrics_table("metrics", pipeline.datasets, pipeline.models, judges)
    sanity = {dataset: read_sanity("metrics", dataset) for dataset in pipeline.datasets}
    page = html_page(table, sanity, "reports/renders", PAGE, pipeline.models, judges)
    markdown = markdown_report(table, sanity, pipeline.models, judges)
    with atomic_path(PAGE) as tmp:
        tmp.write_text(page, encoding="utf-8")
    with atomic_path("reports/metrics.md") as tmp:
        tmp.write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    run_stage(main)
