#!/usr/bin/env bash
# Retrain what changed since a base revision and write the comparison with the base to a folder (docs/ci.md).
# .github/workflows/retrain.yml calls it and publishes that folder; the tests run it for real.
#
#   scripts/retrain.sh [--read-only] BASE_REV [key=value | @file ...]
#
# Without --read-only (jobs on main, a teammate's clone): pull, reproduce, push the new outputs and their run
# records to the DVC remote, compare. With --read-only (pull-request jobs): the same without the push, so the
# remote is left as it was; and a remote it cannot read (a fork's job has no credentials) means every changed
# stage runs here instead of failing the job.
# key=value is a params override (as `dvc exp run -S` takes it); @file reads one per line from a file git tracks
# (e.g. @params-gpu.txt). DVC_REMOTE names the remote (default: the config's); COMPARISON_DIR the folder (default:
# comparison). Credentials stay in the environment (AWS_ACCESS_KEY_ID, ...), where DVC reads them: nothing here
# prints them, and no line of an @file is printed either (an error names its file and line number).
set -euo pipefail
usage="usage: scripts/retrain.sh [--read-only] BASE_REV [key=value | @file ...]"
fail() {
  echo "error: $*" >&2
  exit 2
}

push=true
if [ "${1:-}" = --read-only ]; then
  push=false
  shift
fi
base=${1:?$usage}
shift
if [[ $base == -* ]] || ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
  fail "BASE_REV: expected a commit of this repository, got '$base'"
fi
out=${COMPARISON_DIR:-comparison}
remote=()
[ -z "${DVC_REMOTE:-}" ] || remote=(--remote "$DVC_REMOTE")

# A dotted params key (with `+` for one params.yaml lacks), `=`, then a value without control characters.
override_pattern='^\+?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*=[^[:cntrl:]]*$'
overrides=()
for arg in "$@"; do
  if [[ $arg != @* ]]; then
    [[ $arg =~ $override_pattern ]] || fail "override '$arg': expected key=value, e.g. models.vae.kmnist.epochs=3"
    overrides+=(-S "$arg")
    continue
  fi
  file=${arg#@}
  if [ -L "$file" ] || [ ! -f "$file" ] || ! git ls-files --error-unmatch -- "$file" >/dev/null 2>&1; then
    fail "@$file: expected a file git tracks in this repository (e.g. @params-gpu.txt)"
  fi
  number=0
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $line =~ $override_pattern ]] || fail "$file:$number: expected key=value or a # comment"
    overrides+=(-S "$line")
  done <"$file"
done

# What the remote has: the outputs of every unchanged stage, and the run cache, from which `dvc repro` restores a
# stage it has seen run with the same command, deps and params instead of running it again (a re-run of this
# script, another machine's job of the fan-out); --pull fetches such a run's outputs, which `dvc pull` leaves.
pull=(--pull)
if ! dvc pull "${remote[@]}" --run-cache --allow-missing; then
  $push && fail "cannot pull from the DVC remote (above); nothing was run or pushed"
  echo "warning: cannot read the DVC remote (above): every stage this revision changes runs here" >&2
  pull=()
fi
if [ ${#overrides[@]} -gt 0 ]; then
  dvc exp run "${pull[@]}" "${overrides[@]}"
else
  dvc repro "${pull[@]}"
fi
if $push; then
  dvc push "${remote[@]}" --run-cache
fi
python scripts/compare_revisions.py "$base" "$out" "${remote[@]}"
