"""Training under PyTorch DDP through fastai's distributed support: 2 CPU processes (gloo) started by
`torch.distributed.run` train one regularized job for a few steps; both finish with finite losses."""
import json, math, subprocess, sys
import pytest
import pandas as pd
from conftest import env

import accelerate  # noqa: F401 -- a requirement: fastai's distrib_ctx needs it, so its absence must fail, not skip

def test_ddp_two_cpu_processes(make_config, tmp_path):
    cfg = make_config('ddp', variants={'Proposed+Parseval': {'beta': 0.01, 'gamma': 0.01, 'm': 2}},
                      tests={'clean': {}}, train={'epochs': 1, 'bs': 32, 'device': 'cpu'},
                      data={'dataset': 'digits', 'valid_pct': 0.5})
    rd = tmp_path/'run'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
           '-m', 'graphreg.cli', 'run', str(cfg), '--run-dir', str(rd), '--quiet', '--no-report']
    r = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    (jd,) = list((rd/'jobs').iterdir())
    for rank in (0, 1):
        log = json.loads((jd/f'train_log.rank{rank}.json').read_text())
        assert len(log) == 1 and log[0]['steps'] > 0 and math.isfinite(log[0]['train_loss']), log
    # each process read its own half of the epoch (DistributedDL): about len(train) / 2 / bs steps, not len(train) / bs
    n = len_train(cfg)
    assert math.floor(n / 2 / 32) <= log[0]['steps'] <= math.ceil(n / 2 / 32), (n, log)
    df = pd.read_csv(rd/'results.csv')
    assert list(df.test) == ['clean'] and (jd/'model.pt').exists() and (jd/'done').exists()

def len_train(cfg):
    from graphreg.experiments import load_config, make_dls
    return len(make_dls(load_config(cfg)).train.dataset)
