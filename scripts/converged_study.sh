#!/usr/bin/env bash
# The converged study end to end, for the background: the selection sweep on the validation split
# (configs/converged_selection.toml, 30 jobs), the values it chooses written into configs/converged_final.toml, the
# final comparison on the test split (40 jobs), Parseval at Proposed+Parseval's β for the Laplacian term's own share
# (configs/converged_parseval_share.toml, 10 jobs), then both study reports. Every step is resumable: rerun the script
# after a kill and it goes on where it stopped (finished jobs are skipped, a job killed in training resumes from its
# last epoch, the selection's choice is rewritten identically).
# It is long: on a 2-core CPU a job takes 23-65 minutes of training and a further 10 (selection) to 20-40 (final,
# AutoAttack included) minutes of tests per worker, 45-50 hours of wall time in all with two workers; a GPU
# (`WORKERS=4 DEVICE=cuda`) takes minutes per job.
#   nohup bash scripts/converged_study.sh > converged_study.log 2>&1 &
#   .venv/bin/graphreg status runs/converged_selection     # progress, and the time left
# Environment: WORKERS (default 2), DEVICE (default: the configs' 'auto'), OMP_NUM_THREADS (default 1 a worker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MPLBACKEND=Agg OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
G=".venv/bin/graphreg"
opts=(--workers "${WORKERS:-2}" --quiet --no-report)
[ -n "${DEVICE:-}" ] && opts+=(--device "$DEVICE")
echo "== $(date -u +%FT%TZ) selection sweep (validation split)"
$G run configs/converged_selection.toml "${opts[@]}"
echo "== $(date -u +%FT%TZ) the chosen values, into configs/converged_final.toml"
$G study runs/converged_selection --write-final configs/converged_final.toml
echo "== $(date -u +%FT%TZ) final comparison (test split)"
$G run configs/converged_final.toml "${opts[@]}"
echo "== $(date -u +%FT%TZ) Parseval at Proposed+Parseval's beta, the baseline of the Laplacian term's share (test split)"
$G run configs/converged_parseval_share.toml "${opts[@]}"
echo "== $(date -u +%FT%TZ) the study report: corrected verdict, gradient-masking check, Laplacian share, effect shift"
$G study runs/converged_final --compare-to runs/study_final --share-baseline runs/converged_parseval_share
