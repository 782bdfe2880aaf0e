#!/usr/bin/env bash
# The main job: set up, then run the default experiment (Fashion-MNIST, CPU) end to end, print the median table
# and write the figures under runs/fashion_mnist/ (about 12 minutes on a 2-core CPU; see the comment at the top
# of configs/fashion_mnist.toml). Two worker processes of one thread each share the runs (robust when other
# processes compete for the cores). Rerunning resumes: finished runs are skipped.
# Extra arguments go to `graphreg run`, e.g. `bash scripts/main.sh --workers 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MPLBACKEND=Agg
.venv/bin/graphreg run configs/fashion_mnist.toml --workers 2 --no-report "$@"
.venv/bin/graphreg report runs/fashion_mnist
