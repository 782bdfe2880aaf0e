#!/usr/bin/env bash
# The main job: set up, then run the default experiment (Fashion-MNIST, CPU) end to end,
# print the median table and write the figures under runs/fashion_mnist/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MPLBACKEND=Agg
.venv/bin/graphreg run configs/fashion_mnist.toml "$@"
.venv/bin/graphreg report runs/fashion_mnist
