#!/usr/bin/env bash
# The GPU check of issue 14 in one go, in a scratch copy of the repository on a CUDA machine:
#
#   scripts/gpu_check.sh OUT_DIR [SECONDS] [PHASES]   (PHASES default: "train bench-eager bench-graph bench-compiled")
#
# train:          every model of the registry at its `reference` preset for about SECONDS (default 60) through the
#                 real training loop (bf16 autocast, fused Adam, train.compile=$COMPILE, default cuda-graph: the
#                 whole step as one CUDA graph), all of them at once, one process each; then the real `evaluate`
#                 and `render` stages on each trained model (they take the GPU when present) -> train.jsonl
# bench-eager:    benchmarks/versus_reference.py on the device, train.compile=none -> RESULTS-eager.md
# bench-graph:    the same with train.compile=cuda-graph -> RESULTS-graph.md
# bench-compiled: the same with reduce-overhead (torch.compile's CUDA graphs), reference presets -> RESULTS-compiled.md
#
# Needs data/processed/kmnist/{train,test}.npz, models/kmnist/classifier/ and models/kmnist/reference_stats.npz in
# the copy (a pipeline's prepared data and judge). Writes models/, metrics/, reports/ of the copy: never run it
# in a pipeline's workspace. Each phase has a time limit, so a slow one cannot eat the others' time.
set -uo pipefail
out=${1:?usage: scripts/gpu_check.sh OUT_DIR [SECONDS] [PHASES]}
seconds=${2:-60}
phases=${3:-train bench-eager bench-graph bench-compiled}
python=${PYTHON:-python3}
compile=${COMPILE:-cuda-graph}
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d)
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

# The GPU image has no dvclive and installs nothing: the loop then logs its losses nowhere (training is the same).
if ! $python -c "import dvclive" 2>/dev/null; then
  mkdir -p "$scratch/shim/dvclive"
  cat > "$scratch/shim/dvclive/__init__.py" <<'PY'
class Live:  # stands in for dvclive.Live where dvclive is not installed (scripts/gpu_check.sh)
    def __init__(self, dir="dvclive", *args, **kwargs):
        import os
        os.makedirs(dir, exist_ok=True)
        self.step = 0
    def log_metric(self, *args, **kwargs):
        pass
    def next_step(self):
        self.step += 1
    def end(self):
        pass
PY
  export PYTHONPATH="$PYTHONPATH:$scratch/shim"
  echo "dvclive is not installed: the loop's losses are logged nowhere" | tee -a "$out/log.txt"
fi

{ date -u; nvidia-smi -L 2>&1; $python -c "import torch; print('torch', torch.__version__, '|',
  torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA device')"; } 2>&1 | tee -a "$out/log.txt"
models=${MODELS:-$($python -c "from glyphgen.models import MODEL_NAMES; print(*MODEL_NAMES)")}

for phase in $phases; do
  echo "== $phase ($(date -u +%T))" | tee -a "$out/log.txt"
  case $phase in
    train)
      for model in $models; do
        timeout "${TRAIN_LIMIT:-240}" $python scripts/gpu_check.py "$model" --seconds "$seconds" --compile "$compile" \
          > "$scratch/$model.json" 2> "$scratch/$model.log" &
      done
      wait
      for model in $models; do
        cat "$scratch/$model.json" >> "$out/train.jsonl"
        [ -s "$scratch/$model.json" ] || { echo "-- $model failed:"; tail -n 30 "$scratch/$model.log"; } >> "$out/log.txt"
      done ;;
    bench-eager)
      timeout "${BENCH_LIMIT:-120}" $python benchmarks/versus_reference.py --compile none --repeats 3 --seconds 0.5 \
        --output "$out/RESULTS-eager.md" 2>&1 | tee -a "$out/log.txt" ;;
    bench-graph)
      timeout "${BENCH_LIMIT:-120}" $python benchmarks/versus_reference.py --compile cuda-graph --repeats 3 --seconds 0.5 \
        --output "$out/RESULTS-graph.md" 2>&1 | tee -a "$out/log.txt" ;;
    bench-compiled)
      timeout "${BENCH_LIMIT:-120}" $python benchmarks/versus_reference.py --compile reduce-overhead --presets reference \
        --repeats 3 --seconds 0.5 --output "$out/RESULTS-compiled.md" 2>&1 | tee -a "$out/log.txt" ;;
    *) echo "unknown phase $phase" | tee -a "$out/log.txt" ;;
  esac
done
echo "== done ($(date -u +%T))" | tee -a "$out/log.txt"
