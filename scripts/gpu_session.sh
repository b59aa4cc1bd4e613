#!/usr/bin/env bash
# The GPU checks as one device call (a task lent a GPU has ~15 minutes of device time):
# the CUDA tests, every runtime mode's speed and pool throughput (benchmarks/speed_gpu.py), then
# whether DataLoader workers feed the GPU faster than the in-memory path (issue #22; needs the data).
# Run from the repository root on the GPU machine; results go to $OUT (default runs/gpu).
# VAL=N adds the val AUC of each mode on N sequences of $SIAMTRACK_SHARED/data/sot/val
# (../shared does not travel to the device machine: carry a copy, e.g. SIAMTRACK_SHARED=.shared).
# THROUGHPUT=0 skips the training-data throughput (about 3 minutes).
set -uo pipefail
OUT="${OUT:-runs/gpu}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"
python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tee "$OUT/test_cuda.log"
python3 benchmarks/speed_gpu.py --models "${MODELS:-light,light16,siamfc=random,siamrpn=random}" \
    --out "$OUT/speed_gpu.md" ${VAL:+--val "$VAL"} 2>&1 | tee "$OUT/speed_gpu.log"
SHARED="${SIAMTRACK_SHARED:-../shared}"
if [ "${THROUGHPUT:-1}" != 0 ] && [ -d "$SHARED/data/sot/train" ]; then
    python3 benchmarks/data_scale.py throughput --device cuda --worker-counts 0,4,8 --steps 60 --batch 64 \
        --loader-pairs 1024 --rounds 2 --crop-dir "$OUT/crops" --out "$OUT/data_throughput_gpu.md" 2>&1 | tail -n 40 | tee "$OUT/data_throughput_gpu.log"
    rm -rf "$OUT/crops"
else
    echo "training-data throughput skipped: no $SHARED/data/sot/train (or THROUGHPUT=0)" | tee "$OUT/data_throughput_gpu.log"
fi
