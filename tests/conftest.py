"Helpers for the subprocess tests of the experiments machinery (sweeps, workers, DDP, determinism)."
import os, sys, subprocess, tomllib
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT/'configs'/'smoke.toml'

def _toml(d, prefix=''):
    from graphreg.experiments import dumps_toml
    return dumps_toml(d)

@pytest.fixture
def make_config(tmp_path):
    "Write a variant of configs/smoke.toml (top-level keys and tables replaced by `over`) and return its path."
    def make(name='t', **over):
        d = tomllib.loads(SMOKE.read_text())
        d['name'] = name
        for k, v in over.items():
            if isinstance(v, dict) and isinstance(d.get(k), dict) and k not in ('variants', 'tests'): d[k] = {**d[k], **v}
            else: d[k] = v
        p = tmp_path/f'{name}.toml'; p.write_text(_toml(d))
        return p
    return make

def graphreg_cmd(*args):
    "The `graphreg` command as a subprocess argument list."
    return [sys.executable, '-m', 'graphreg.cli', *map(str, args)]

def env(threads=1):
    e = dict(os.environ, OMP_NUM_THREADS=str(threads), MPLBACKEND='Agg', PYTHONHASHSEED='0')
    return e
