#!/usr/bin/env bash
# One-shot, idempotent set-up of a graphreg development environment on Debian with Python 3.11:
#   1. .venv with the tested dependency set (constraints.txt) and graphreg in editable mode;
#   2. Debian's dataset-fashion-mnist (the default data set);
#   3. KaTeX (npm's `katex` package, unpacked into .venv/docs-vendor/) for the offline documentation build;
#   4. with --browser: Debian's chromium + chromium-driver for the docs browser test (and npm if missing).
# A second run checks stamps and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
want_browser=0
for a in "$@"; do case "$a" in --browser) want_browser=1;; *) echo "setup.sh: unknown option $a" >&2; exit 2;; esac; done

# Root or sudo for apt-get; a clear message otherwise.
apt_install() {
  local pkgs=("$@") missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo
    else
      echo "setup.sh: Debian packages missing: ${missing[*]}" >&2
      echo "setup.sh: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "setup.sh: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

apt_install dataset-fashion-mnist
[ $want_browser -eq 1 ] && apt_install chromium chromium-driver

# pip check, accepting only the one conflict installed on purpose below (torchattacks' requests pin)
pip_check() {
  local out rc=0 rest
  out=$(.venv/bin/python -m pip check 2>&1) || rc=$?
  if [ $rc -eq 0 ]; then echo "$out"; return 0; fi
  rest=$(printf '%s\n' "$out" | grep -v '^torchattacks [0-9.]* has requirement requests' || true)
  if [ -z "$rest" ]; then echo "pip check: no broken requirements but torchattacks' requests pin (accepted, see below)"; return 0; fi
  printf '%s\n' "$rest" >&2; return 1
}

stamp=.venv/.graphreg-setup
hash=$(cat constraints.txt settings.ini setup.py | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && .venv/bin/python -c "import graphreg" 2>/dev/null; then
  echo "setup.sh: .venv is up to date"
else
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  echo "setup.sh: installing the tested dependency set into .venv (a few minutes on a fresh machine)"
  # --no-compile: only the modules graphreg uses are byte-compiled, below, not all of them (halves a fresh install here)
  # (sed drops this machine's harmless notes about missing local index folders; pip's own status still counts)
  .venv/bin/python -m pip install -q --no-compile -c constraints.txt -e '.[dev]' 2>&1 | sed '/^WARNING: Location .* is ignored/d'
  pip_check
  echo "$hash" > "$stamp"
fi

# torchattacks (AutoAttack and Square, graphreg.robustness) is installed on its own, with --no-deps: its metadata
# pins requests~=2.25.1, which conflicts with the requests of constraints.txt, but the package imports only torch,
# numpy and scipy at run time (never requests), and nbs/07_robustness.ipynb's tests run the parts we use. So it is
# not in settings.ini's requirements (pip would refuse the set, and `pip check` would fail); its version is pinned
# in constraints.txt, read here, and pip_check accepts that one conflict and nothing else.
ta_version=$(sed -n 's/^torchattacks==//p' constraints.txt)
if ! .venv/bin/python -c "import sys, importlib.metadata as m; sys.exit(m.version('torchattacks') != '$ta_version')" 2>/dev/null; then
  echo "setup.sh: installing torchattacks $ta_version without its dependencies (see the comment above)"
  .venv/bin/python -m pip install -q --no-deps "torchattacks==$ta_version" 2>&1 | sed '/^WARNING: Location .* is ignored/d'
  pip_check
fi
.venv/bin/python -c "import torchattacks" || { echo "setup.sh: torchattacks does not import" >&2; exit 1; }

# Byte-compile what graphreg, its notebooks and its tests import, by importing it once with bytecode writing on (where
# PYTHONDONTWRITEBYTECODE is set, every later process would otherwise compile torch and fastai again at each start).
warm=.venv/.graphreg-bytecode
if [ ! -f "$warm" ] || [ "$(cat "$warm")" != "$hash $ta_version" ]; then
  env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -W ignore -c "import graphreg.experiments, graphreg.study, graphreg.cli, \
graphreg.launch, graphreg.robustness, fastai.vision.all, torchattacks, foolbox, submitit, sklearn.datasets, hypothesis, \
pytest, nbdev.test, execnb.shell, matplotlib.pyplot" && echo "$hash $ta_version" > "$warm"
fi

# KaTeX for the documentation's math, bundled into the site by scripts/build_docs.py (no CDN at read time).
# `npm pack` fetches the package alone (its dist/ has no runtime dependencies); the version is pinned here
# and in build_docs.py's KATEX_VERSION.
katex_version=0.19.1
katex_dir=.venv/docs-vendor/katex
if ! grep -qs "\"version\": \"$katex_version\"" "$katex_dir/package.json"; then
  command -v npm >/dev/null || { [ $want_browser -eq 1 ] && apt_install npm; } || true
  if command -v npm >/dev/null; then
    echo "setup.sh: installing KaTeX $katex_version (npm) into $katex_dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "katex@$katex_version" >/dev/null)
    rm -rf "$katex_dir" && mkdir -p "$katex_dir"
    tar xzf "$tmp/katex-$katex_version.tgz" -C "$katex_dir" --strip-components=1
    rm -rf "$tmp"
  else
    echo "setup.sh: npm not found, so KaTeX is not installed: the docs build needs it (rerun with --browser as root)" >&2
  fi
fi
echo "setup.sh: done"
