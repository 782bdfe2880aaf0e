#!/usr/bin/env bash
# The whole test suite (README's second command): set-up, notebooks and modules in sync,
# every notebook's tests (nbdev_test), the documentation site built and checked in a browser, then pytest
# over tests/ (README.md in step with nbs/index.ipynb included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
V=.venv/bin
export MPLBACKEND=Agg PYTHONHASHSEED=0

echo "== nbdev_export: notebooks and graphreg/ in sync"
before=$(git status --porcelain -- graphreg 2>/dev/null || true)
$V/nbdev_export
after=$(git status --porcelain -- graphreg 2>/dev/null || true)
if [ "$before" != "$after" ]; then
  echo "graphreg/ is out of sync with the notebooks (nbdev_export changed it):" >&2
  git status --porcelain -- graphreg >&2; exit 1
fi

echo "== nbdev_test: every notebook (cells flagged 'slow' are skipped; --flags slow runs them)"
# one intra-op thread per notebook process: two processes of two threads each on two cores oversubscribe them
OMP_NUM_THREADS=1 $V/nbdev_test --n_workers 2 --timing

echo "== docs: build the site offline into _docs/ (scripts/build_docs.py), then check it in headless Chromium"
$V/python scripts/build_docs.py
$V/python scripts/docs_test.py

echo "== pytest"
set +e
$V/python -m pytest -q tests
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "pytest: no tests collected in tests/" >&2; exit 1; fi
exit $rc
