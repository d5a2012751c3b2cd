#!/usr/bin/env bash
# Retrain what changed since a base revision, store the new outputs in the DVC remote, and write the comparison
# with the base to a folder (README: "Retraining from CI"). .github/workflows/retrain.yml calls it and publishes
# that folder; the tests run it for real.
#
#   scripts/retrain.sh BASE_REV [key=value | @file ...]
#
# key=value is a params override (as `dvc exp run -S` takes it); @file reads one per line (e.g. @params-gpu.txt).
# DVC_REMOTE names the remote (default: the config's); COMPARISON_DIR the folder (default: comparison).
# Credentials stay in the environment (AWS_ACCESS_KEY_ID, ...), where DVC reads them: nothing here prints them.
set -euo pipefail
base=${1:?usage: scripts/retrain.sh BASE_REV [key=value | @file ...]}
shift
out=${COMPARISON_DIR:-comparison}
remote=()
[ -z "${DVC_REMOTE:-}" ] || remote=(--remote "$DVC_REMOTE")

overrides=()
for arg in "$@"; do
  if [[ $arg == @* ]]; then
    while read -r line; do overrides+=(-S "$line"); done < <(grep -v -e '^#' -e '^[[:space:]]*$' "${arg#@}")
  else
    overrides+=(-S "$arg")
  fi
done

# What the remote has: the outputs of every unchanged stage, and the run cache, from which `dvc repro` restores a
# stage it has seen run with the same command, deps and params instead of running it again (a re-run of this
# script, another machine's job of the fan-out); --pull fetches such a run's outputs, which `dvc pull` leaves.
dvc pull "${remote[@]}" --run-cache --allow-missing
if [ ${#overrides[@]} -gt 0 ]; then
  dvc exp run --pull "${overrides[@]}"
else
  dvc repro --pull
fi
dvc push "${remote[@]}" --run-cache
python scripts/compare_revisions.py "$base" "$out" "${remote[@]}"
