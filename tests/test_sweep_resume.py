"""A worker killed (SIGKILL) in the middle of training leaves no partial rows, and rerunning resumes cleanly;
two workers on one run dir never take the same job."""
import os, signal, subprocess, time, json
from pathlib import Path
import pandas as pd
from conftest import graphreg_cmd, env

QUICK_TESTS = {'clean': {}, 'dropout': {'p': [0.25], 'n_runs': 2}}
TWO = {'Vanilla': {}, 'Proposed': {'gamma': 0.01, 'm': 2}}

def test_sigkill_mid_training_then_resume(make_config, tmp_path):
    cfg = make_config('kill', variants={'Proposed': {'gamma': 0.01, 'm': 2}}, tests=QUICK_TESTS, train={'epochs': 5})
    rd = tmp_path/'run'
    p = subprocess.Popen(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet', '--no-report'), env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    victim, deadline = None, time.time() + 120
    while victim is None and time.time() < deadline and p.poll() is None:
        for jd in sorted((rd/'jobs').glob('*')) if (rd/'jobs').exists() else []:
            # one epoch logged, checkpoint not yet written: it is training
            if (jd/'train_log.json').exists() and not (jd/'model.pth').exists() and (jd/'claim').exists():
                victim = jd; break
        time.sleep(0.01)
    assert victim is not None, f"never caught a job mid-training: {p.poll()} {p.stderr.read().decode()[-2000:]}"
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not (victim/'rows.csv').exists() and not (victim/'done').exists() and not (victim/'model.pth').exists()
    assert (victim/'claim').exists()  # left behind by the dead worker: stale (its pid is gone)
    done_before = sorted(d.name for d in (rd/'jobs').iterdir() if (d/'done').exists())
    if (rd/'results.csv').exists() and (rd/'results.csv').stat().st_size > 1:
        assert set(pd.read_csv(rd/'results.csv').job) == set(done_before)   # only finished jobs' rows
    r = subprocess.run(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet'), env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(rd/'results.csv')
    assert sorted(df.job.unique()) == sorted(d.name for d in (rd/'jobs').iterdir())
    assert len(df) == len(pd.read_csv(victim/'rows.csv'))                # no duplicated rows
    assert not list(rd.glob('jobs/*/claim')) and not list(rd.glob('**/.*.tmp'))
    assert (rd/'medians.md').exists() and (rd/'figures'/'clean.png').exists()
    # the resumed run gives exactly what an uninterrupted run gives (same config and seeds)
    r = subprocess.run(graphreg_cmd('run', cfg, '--run-dir', tmp_path/'clean', '--quiet', '--no-report'), env=env(),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    ref = pd.read_csv(tmp_path/'clean'/'results.csv')
    pd.testing.assert_frame_equal(df.drop(columns='seconds'), ref.drop(columns='seconds'))

def test_two_workers_share_a_run_dir(make_config, tmp_path):
    cfg = make_config('workers', variants=TWO, seeds=[0, 1], tests=QUICK_TESTS, train={'epochs': 1})
    rd = tmp_path/'run'
    r = subprocess.run(graphreg_cmd('run', cfg, '--run-dir', rd, '--workers', 2, '--quiet'), env=env(),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(rd/'results.csv')
    assert df.job.nunique() == 4 and len(df) == 4 * len(df[df.job == df.job.iloc[0]])
    # every job was trained exactly once: one "training" line per job across both workers
    starts = [l for l in r.stdout.splitlines() if ': training ' in l]
    assert len(starts) == 4 and len({l.split(':')[0].split('] ')[1] for l in starts}) == 4, r.stdout
    hosts = {json.loads((d/'done').read_text())['host'] for d in (rd/'jobs').iterdir()}
    assert len(hosts) == 1
