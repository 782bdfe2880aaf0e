"""Training under PyTorch DDP through fastai's distributed support: 2 CPU processes (gloo) started by
`torch.distributed.run` train one regularized job; the run is killed after its first epoch's checkpoints and resumed
from them (not retrained); both ranks finish with finite losses, each on its half of every epoch."""
import json, math, os, signal, subprocess, sys, time
import pytest
import pandas as pd
from conftest import env

import accelerate  # noqa: F401 -- a requirement: fastai's distrib_ctx needs it, so its absence must fail, not skip

EPOCHS = 4

def test_ddp_two_cpu_processes_resume(make_config, tmp_path):
    cfg = make_config('ddp', variants={'Proposed+Parseval': {'beta': 0.01, 'gamma': 0.01, 'm': 2}},
                      tests={'clean': {}}, train={'epochs': EPOCHS, 'bs': 32, 'device': 'cpu'},
                      data={'dataset': 'digits', 'valid_pct': 0.5})
    rd = tmp_path/'run'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
           '-m', 'graphreg.cli', 'run', str(cfg), '--run-dir', str(rd), '--quiet', '--no-report']
    # 1. killed (SIGKILL to the launcher and both ranks) once both ranks have saved their first epoch
    p = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        jds = list((rd/'jobs').glob('*')) if (rd/'jobs').is_dir() else []
        if jds and all((jds[0]/f'checkpoint.rank{r}.e0.pt').exists() for r in (0, 1)):
            os.killpg(p.pid, signal.SIGKILL); break
        time.sleep(0.02)
    p.wait(timeout=60)
    (jd,) = list((rd/'jobs').iterdir())
    assert not (jd/'model.pt').exists(), "the run finished before it could be killed: nothing was resumed"
    first = {r: json.loads((jd/f'train_log.rank{r}.json').read_text())[0] for r in (0, 1)}
    # 2. resumed: the epochs saved by every rank are not trained again
    r = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    for rank in (0, 1):
        log = json.loads((jd/f'train_log.rank{rank}.json').read_text())
        assert [e['epoch'] for e in log] == list(range(EPOCHS)), log
        assert log[0] == first[rank], (log[0], first[rank])       # restored from the checkpoint, not retrained
        assert all(e['steps'] > 0 and math.isfinite(e['train_loss']) for e in log), log
    # each process read its own half of the epoch (DistributedDL): about len(train) / 2 / bs steps, not len(train) / bs
    n = len_train(cfg)
    assert math.floor(n / 2 / 32) <= log[-1]['steps'] <= math.ceil(n / 2 / 32), (n, log)
    df = pd.read_csv(rd/'results.csv')
    assert list(df.test) == ['clean'] and (jd/'model.pt').exists() and (jd/'done').exists()
    assert not list(jd.glob('checkpoint*')), list(jd.glob('checkpoint*'))   # every rank's checkpoints removed

def len_train(cfg):
    from graphreg.experiments import load_config, make_dls
    return len(make_dls(load_config(cfg)).train.dataset)
