"""`graphreg eval` adds tests to a finished run without retraining, and a worker killed (SIGKILL) in the middle of
an evaluation leaves no partial rows: rerunning resumes and gives exactly the rows of an uninterrupted evaluation."""
import os, shutil, signal, subprocess, time, tomllib
from pathlib import Path
import pandas as pd
from conftest import graphreg_cmd, env

TRAIN_TESTS = {'clean': {}}
NEW_TESTS = '''[tests.gaussian_noise]
snr_db = [20.0, 10.0]
n_draws = 2
[tests.pgd_linf]
eps = [0.01, 0.03]
steps = 10
[tests.dropout]
p = [0.25]
n_runs = 6
'''

def _train(make_config, rd):
    cfg = make_config('ev', variants={'Vanilla': {}, 'Parseval': {'beta': 0.01}}, tests=TRAIN_TESTS, train={'epochs': 1})
    r = subprocess.run(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet', '--no-report'), env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return cfg

def test_eval_adds_tests_without_retraining_and_resumes_after_sigkill(make_config, tmp_path):
    rd, ref = tmp_path/'run', tmp_path/'ref'
    _train(make_config, rd)
    shutil.copytree(rd, ref)                                # the same trained run, evaluated without interruption
    models = {p: p.stat().st_mtime_ns for p in rd.glob('jobs/*/model.pt')}
    assert len(models) == 2
    (tmp_path/'new.toml').write_text(NEW_TESTS)
    uninterrupted = subprocess.Popen(graphreg_cmd('eval', ref, '--tests', tmp_path/'new.toml', '--quiet', '--no-report'),
                                     env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)   # runs meanwhile
    p = subprocess.Popen(graphreg_cmd('eval', rd, '--tests', tmp_path/'new.toml', '--quiet', '--no-report'), env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and p.poll() is None and not list(rd.glob('jobs/*/tests/gaussian_noise.json')):
        time.sleep(0.01)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    for csv in rd.glob('jobs/*/tests/*.csv'):                     # every rows file that exists is complete
        assert csv.read_bytes().endswith(b'\n')
    r = subprocess.run(graphreg_cmd('eval', rd, '--quiet', '--no-report'), env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in rd.glob('jobs/*/model.pt')} == models          # nothing retrained
    assert set(tomllib.loads((rd/'config.toml').read_text())['tests']) == {'clean', 'gaussian_noise', 'pgd_linf', 'dropout'}
    err = uninterrupted.communicate(timeout=600)[1].decode()
    assert uninterrupted.returncode == 0, err[-3000:]
    a, b = (pd.read_csv(d/'results.csv').drop(columns='seconds') for d in (rd, ref))
    assert set(a.test) == {'clean', 'gaussian_noise', 'pgd_linf', 'dropout'}
    pd.testing.assert_frame_equal(a, b)                                                   # resumed == uninterrupted
    st = subprocess.run(graphreg_cmd('status', rd), env=env(), capture_output=True, text=True)
    assert '2 jobs: 2 done' in st.stdout, st.stdout
