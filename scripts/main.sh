#!/usr/bin/env bash
# The main job: set up, then run the default experiment (Fashion-MNIST, CPU) end to end, print the median table
# and write the figures under runs/fashion_mnist/ (about 20 minutes on a quiet 2-core CPU; see the comment at
# the top of configs/fashion_mnist.toml). Rerunning resumes: finished runs are skipped.
# Extra arguments go to `graphreg run`, e.g. `bash scripts/main.sh --workers 2`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MPLBACKEND=Agg
.venv/bin/graphreg run configs/fashion_mnist.toml --no-report "$@"
.venv/bin/graphreg report runs/fashion_mnist
