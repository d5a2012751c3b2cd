"""The comparison page for all models x data sets: reports/index.html and reports/metrics.md.

Usage: python stages/report.py
"""

from glyphgen.io import atomic_path
from glyphgen.params import load_params, load_pipeline
from glyphgen.rendering.report import html_page, markdown_table, metrics_table
from glyphgen.stage import run_stage

PAGE = "reports/index.html"


def main() -> None:
    params = load_pipeline(load_params())
    table = metrics_table("metrics", params.datasets, params.models)
    page = html_page(table, "reports/renders", PAGE, params.models)
    with atomic_path(PAGE) as tmp:
        tmp.write_text(page, encoding="utf-8")
    with atomic_path("reports/metrics.md") as tmp:
        tmp.write_text(markdown_table(table), encoding="utf-8")
    print(markdown_table(table))


if __name__ == "__main__":
    run_stage(main)
