#!/usr/bin/env bash
# One machine's share of the train matrix, for .github/workflows/fanout.yml (README: "Scaling out"):
#
#   scripts/fanout.sh stages        # the train@<dataset>-<model> instances, as a JSON list (the job matrix)
#   scripts/fanout.sh data          # make the data sets every train job reads, and push them
#   scripts/fanout.sh train STAGE   # pull STAGE's inputs, train it alone, push it
#
# Then one job runs scripts/retrain.sh BASE_REV: it pulls everything, and `dvc repro` restores each trained run
# from the run cache the train jobs pushed (no training), runs evaluate, render and report, and compares.
# DVC_REMOTE names the remote (default: the config's).
set -euo pipefail
remote=()
[ -z "${DVC_REMOTE:-}" ] || remote=(--remote "$DVC_REMOTE")

case ${1:-} in
  stages)
    dvc stage list --name-only | grep '^train@' | python -c 'import json, sys; print(json.dumps(sys.stdin.read().split()))'
    ;;
  data)
    dvc pull "${remote[@]}" --run-cache --allow-missing split
    dvc repro --pull split
    dvc push "${remote[@]}" --run-cache split
    ;;
  train)
    stage=${2:?usage: scripts/fanout.sh train train@<dataset>-<model>}
    if [[ ! $stage =~ ^train@[a-z0-9_]+-[a-z0-9_]+$ ]]; then
      echo "error: STAGE: expected train@<dataset>-<model>, got '$stage'" >&2
      exit 2
    fi
    dvc pull "${remote[@]}" --run-cache --allow-missing --with-deps "$stage"
    dvc repro --pull --single-item "$stage"
    dvc push "${remote[@]}" --run-cache "$stage"
    ;;
  *)
    echo "usage: scripts/fanout.sh stages | data | train train@<dataset>-<model>" >&2
    exit 2
    ;;
esac
