#!/usr/bin/env bash
# The whole test suite (README's second command): set-up, notebooks and modules in sync,
# every notebook's tests (nbdev_test), then side by side the documentation site built and checked in a browser and pytest
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

# The documentation check and pytest run side by side (pytest's subprocess tests leave a core idle much of the
# time); pytest prints as it goes, the docs' output is printed when both are done.
echo "== docs (scripts/build_docs.py builds the site offline into _docs/, scripts/docs_test.py checks it in headless
== Chromium, output below pytest's) and pytest over tests/, side by side"
docs_log=$(mktemp)
( $V/python scripts/build_docs.py && $V/python scripts/docs_test.py ) > "$docs_log" 2>&1 &
docs_pid=$!
set +e
OMP_NUM_THREADS=1 $V/python -m pytest -q --durations=8 tests
rc=$?
wait $docs_pid
docs_rc=$?
set -e
echo "== docs"; cat "$docs_log"
rm -f "$docs_log"
if [ $docs_rc -ne 0 ]; then echo "docs: the site build or its browser test failed (exit $docs_rc)" >&2; exit $docs_rc; fi
if [ $rc -eq 5 ]; then echo "pytest: no tests collected in tests/" >&2; exit 1; fi
exit $rc
