#!/usr/bin/env bash
# Regenerate benchmarks/results/val/ (report.md, report.json, plots): every shipped model and the
# available OpenCV baselines on ../shared/data/sot/val. One worker, so the fps column is not shared.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SIAMTRACK_SHARED:-../shared}"
siamtrack eval "$SHARED/data/sot/val" --results-dir runs/eval/val --report benchmarks/results/val --workers 1 "$@"
