import json

import pytest

from glyphgen.cli import main
from glyphgen.stage import run_stage
from glyphgen.timings import StageTiming, load_timings, record_timing, timings_table

RUN_STARTED = 1_000.0
TIMINGS = [  # two trainings this run, one evaluation DVC skipped (measured before the run started)
    StageTiming("evaluate@kmnist-vae", 10.0, 15.0, 1.0, finished=900.0),
    StageTiming("train@kmnist-vae", 60.0, 110.0, 2.0, finished=1_060.0),
    StageTiming("train@kmnist-gan", 30.0, 55.0, 1.0, finished=1_090.0),
]


def test_timings_round_trip_in_the_order_stages_finished(tmp_path):
    for timing in reversed(TIMINGS):
        record_timing(timing, tmp_path)
    assert load_timings(tmp_path) == TIMINGS
    assert json.loads((tmp_path / "train@kmnist-vae.json").read_text())["seconds"] == 60.0


def test_table_shows_each_stage_its_share_and_what_dvc_skipped():
    table = timings_table(TIMINGS, since=RUN_STARTED)
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    assert "| 60.0 |" in rows["train@kmnist-vae"] and "| 60% |" in rows["train@kmnist-vae"]
    assert "this run" in rows["train@kmnist-gan"] and "skipped, measured" in rows["evaluate@kmnist-vae"]
    assert "| 90.0 | 90% |" in rows["train"] and "| 10.0 | 10% |" in rows["evaluate"]  # by kind of stage
    assert "100 s over 3 stages; this run ran 2 of them (90 s)" in table
    assert "skipped" not in timings_table(TIMINGS)  # no run start given: every stage counts as run


def test_stages_run_by_dvc_record_their_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    run_stage(lambda: None)
    assert not (tmp_path / "timings").exists()  # run by hand: nothing recorded
    monkeypatch.setenv("DVC_STAGE", "report")
    run_stage(lambda: None)
    [timing] = load_timings(tmp_path / "timings")
    assert timing.stage == "report" and timing.seconds > 0


def test_timings_command_prints_and_writes_the_table(tmp_path, capsys):
    for timing in TIMINGS:
        record_timing(timing, tmp_path / "timings")
    output = tmp_path / "reports" / "timings.md"
    assert main(["timings", "--timings-dir", str(tmp_path / "timings"), "--since", str(RUN_STARTED),
                 "-o", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "train@kmnist-gan" in printed and printed in output.read_text()


@pytest.mark.parametrize("since", [None, RUN_STARTED])
def test_no_timings_yet_says_so(tmp_path, since):
    assert "No stage timings recorded yet" in timings_table(load_timings(tmp_path), since)
