"""Training under PyTorch DDP through fastai's distributed support: 2 CPU processes (gloo) started by
`torch.distributed.run` train one regularized job. The run is killed (launcher and ranks) once both ranks have saved
an epoch, and resumed: the saved epochs are not trained again, each rank reads its half of every epoch, and the
resumed network is the one an uninterrupted run (trained at the same time) ends with."""
import json, math, os, re, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd, torch
from conftest import env

import accelerate  # noqa: F401 -- a requirement: fastai's distrib_ctx needs it, so its absence must fail, not skip

EPOCHS = 4
CKPT = re.compile(r'checkpoint\.w2\.rank(\d)\.e(\d+)\.pt')

def _cmd(cfg, rd):
    return [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
            '-m', 'graphreg.cli', 'run', str(cfg), '--run-dir', str(rd), '--quiet', '--no-report']

def _kill_all(rd):
    "SIGKILL every process working on run dir `rd` (torchrun starts each rank in a session of its own)."
    for p in Path('/proc').iterdir():
        try: cmd = (p/'cmdline').read_bytes().split(b'\0')
        except (OSError, ValueError): continue
        if p.name.isdigit() and str(rd).encode() in cmd:
            try: os.kill(int(p.name), signal.SIGKILL)
            except ProcessLookupError: pass

def _shared_epoch(jd):
    saved = {0: set(), 1: set()}
    for f in jd.glob('checkpoint.w2.rank*.e*.pt'):
        if (m := CKPT.fullmatch(f.name)): saved[int(m[1])].add(int(m[2]))
    common = saved[0] & saved[1]
    return max(common) if common else None

def _weights(jd):
    return torch.load(jd/'model.pt', map_location='cpu', weights_only=False)['state_dict']

def test_ddp_two_cpu_processes_resume(make_config, tmp_path):
    cfg = make_config('ddp', variants={'Proposed+Parseval': {'beta': 0.01, 'gamma': 0.01, 'm': 2}},
                      tests={'clean': {}}, train={'epochs': EPOCHS, 'bs': 32, 'device': 'cpu'},
                      data={'dataset': 'digits', 'valid_pct': 0.5})
    rd, ref_rd = tmp_path/'run', tmp_path/'reference'
    ref = subprocess.Popen(_cmd(cfg, ref_rd), env=env(), stdout=subprocess.DEVNULL, stderr=open(tmp_path/'ref.err', 'w'))
    # 1. killed once both ranks hold a checkpoint of an epoch before the last
    p = subprocess.Popen(_cmd(cfg, rd), env=env(), stdout=subprocess.DEVNULL, stderr=open(tmp_path/'run.err', 'w'))
    deadline, k = time.time() + 240, None
    while time.time() < deadline and p.poll() is None:
        jds = list((rd/'jobs').glob('*')) if (rd/'jobs').is_dir() else []
        if jds and (k := _shared_epoch(jds[0])) is not None: break
        time.sleep(0.02)
    _kill_all(rd); p.wait(timeout=60)
    assert k is not None and k < EPOCHS - 1, f"not killed mid-training (epoch {k}): {(tmp_path/'run.err').read_text()[-3000:]}"
    (jd,) = list((rd/'jobs').iterdir())
    assert not (jd/'model.pt').exists()
    saved = {r: json.loads((jd/f'train_log.rank{r}.json').read_text())[:k + 1] for r in (0, 1)}
    # 2. resumed after epoch k: those epochs are restored, not trained again, and the rest is trained
    r = subprocess.run(_cmd(cfg, rd), env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert ': training ' in r.stdout, r.stdout                     # this run trained the job (no leftover process did)
    for rank in (0, 1):
        log = json.loads((jd/f'train_log.rank{rank}.json').read_text())
        assert [e['epoch'] for e in log] == list(range(EPOCHS)), log
        assert log[:k + 1] == saved[rank], (log, saved[rank])      # restored from the checkpoints
        assert all(e['steps'] > 0 and math.isfinite(e['train_loss']) for e in log), log
    # each process read its own half of the epoch (DistributedDL): about len(train) / 2 / bs steps, not len(train) / bs
    n = len_train(cfg)
    assert math.floor(n / 2 / 32) <= log[-1]['steps'] <= math.ceil(n / 2 / 32), (n, log)
    df = pd.read_csv(rd/'results.csv')
    assert list(df.test) == ['clean'] and (jd/'model.pt').exists() and (jd/'done').exists()
    assert not list(jd.glob('checkpoint*')) and not list(jd.glob('.checkpoint*')), list(jd.iterdir())
    # 3. the same network as the uninterrupted run
    assert ref.wait(timeout=300) == 0, (tmp_path/'ref.err').read_text()[-3000:]
    (ref_jd,) = list((ref_rd/'jobs').iterdir())
    a, b = _weights(jd), _weights(ref_jd)
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a), [n for n in a if not torch.equal(a[n], b[n])][:5]

def len_train(cfg):
    from graphreg.experiments import load_config, make_dls
    return len(make_dls(load_config(cfg)).train.dataset)
