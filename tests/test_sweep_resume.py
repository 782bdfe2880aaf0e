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
    # the same config run without interruption, meanwhile in its own run dir: the reference of the resumed run
    uninterrupted = subprocess.Popen(graphreg_cmd('run', cfg, '--run-dir', tmp_path/'clean', '--quiet', '--no-report'),
                                     env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p = subprocess.Popen(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet', '--no-report'), env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    victim, deadline = None, time.time() + 120
    while victim is None and time.time() < deadline and p.poll() is None:
        for jd in sorted((rd/'jobs').glob('*')) if (rd/'jobs').exists() else []:
            # an epoch checkpoint written, the model not yet saved: it is training (epoch 2 or later of 5)
            if (jd/'checkpoint.pt').exists() and not (jd/'model.pt').exists() and (jd/'claim').exists():
                victim = jd; break
        time.sleep(0.01)
    assert victim is not None, f"never caught a job mid-training: {p.poll()} {p.stderr.read().decode()[-2000:]}"
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not list(victim.glob('tests/*.csv')) and not (victim/'done').exists() and not (victim/'model.pt').exists()
    assert (victim/'claim').exists()  # left behind by the dead worker: stale (its pid is gone)
    log_before = json.loads((victim/'train_log.json').read_text())
    assert 1 <= len(log_before) < 5
    done_before = sorted(d.name for d in (rd/'jobs').iterdir() if (d/'done').exists())
    if (rd/'results.csv').exists() and (rd/'results.csv').stat().st_size > 1:
        assert set(pd.read_csv(rd/'results.csv').job) == set(done_before)   # only finished jobs' rows
    r = subprocess.run(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet'), env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(rd/'results.csv')
    assert sorted(df.job.unique()) == sorted(d.name for d in (rd/'jobs').iterdir())
    assert len(df) == sum(len(pd.read_csv(f)) for f in (rd/'jobs').glob('*/tests/*.csv'))   # no duplicated rows
    log_after = json.loads((victim/'train_log.json').read_text())
    assert [e['epoch'] for e in log_after] == list(range(5))                # resumed after its last epoch, none twice
    assert log_after[:len(log_before)] == log_before
    assert not (victim/'checkpoint.pt').exists()                            # removed once model.pt is written
    assert not list(rd.glob('jobs/*/claim')) and not list(rd.glob('**/.*.tmp'))
    assert (rd/'medians.md').exists() and (rd/'figures'/'clean.png').exists()
    # the resumed run gives exactly what an uninterrupted run gives (same config and seeds)
    err = uninterrupted.communicate(timeout=600)[1].decode()
    assert uninterrupted.returncode == 0, err[-3000:]
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

def _alive_with(text):
    "PIDs of processes whose command line contains `text`."
    r = subprocess.run(['pgrep', '-f', text], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]

def _default_sigint():
    "Ctrl-C as in a terminal: a shell without job control starts background commands with SIGINT ignored, and so the test."
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def _wait_claims(rd, n, p, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        if len(list(rd.glob('jobs/*/claim'))) >= n and list(rd.glob('jobs/*/train_log.json')): return True
        time.sleep(0.05)
    return False

def test_ctrl_c_stops_every_worker_and_resumes(make_config, tmp_path):
    cfg = make_config('intr', variants=TWO, seeds=[0], tests=QUICK_TESTS, train={'epochs': 6})   # 2 jobs
    runs = {workers: tmp_path/f'run{workers}' for workers in (1, 2)}  # one worker and two, side by side
    procs = {w: subprocess.Popen(graphreg_cmd('run', cfg, '--run-dir', rd, '--workers', w, '--quiet', '--no-report'),
                                 env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                                 preexec_fn=_default_sigint) for w, rd in runs.items()}
    for w, p in procs.items():
        assert _wait_claims(runs[w], w, p), p.stderr.read().decode()[-2000:]
        p.send_signal(signal.SIGINT)                           # Ctrl-C to the parent only (a terminal would signal them all)
    for w, p in procs.items():
        err = p.communicate(timeout=120)[1].decode()
        assert p.returncode == 130, (w, p.returncode, err[-2000:])
        assert 'rerun to resume' in err
    time.sleep(0.5)
    for w, rd in runs.items():
        assert _alive_with(str(rd)) == [], f'a worker outlived the interrupted sweep ({w} worker(s))'
        assert not list(rd.glob('jobs/*/claim'))               # every claim released
    reruns = {w: subprocess.Popen(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet', '--no-report'), env=env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for w, rd in runs.items()}
    for w, r in reruns.items():
        err = r.communicate(timeout=300)[1].decode()
        assert r.returncode == 0, err[-3000:]
        assert pd.read_csv(runs[w]/'results.csv').job.nunique() == 2
