#!/usr/bin/env bash
# Screenshot the comparison page in headless Chromium, offline: proves it renders in a real browser.
# Usage: scripts/screenshot_report.sh [page=reports/index.html] [png=reports/screenshot.png] [size=1400,3000]
# Needs Debian's chromium: apt-get update && apt-get install -y chromium
set -euo pipefail
page=${1:-reports/index.html}
png=${2:-reports/screenshot.png}
size=${3:-1400,3000}
[ -f "$page" ] || { echo "error: $page: no report page (run dvc repro report)" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "error: chromium not found (apt-get install -y chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$profile" --screenshot="$(realpath -m "$png")" \
  --window-size="$size" "file://$(realpath "$page")"
echo "wrote $png"
