"""submitit workers in real subprocesses (`LocalExecutor`): two workers share a sweep's run directory, each job is
trained once. The in-process (`DebugExecutor`) cases, `submit_eval` and the argument checks are in nbs/09a_launch."""
import os, re, tomllib
from pathlib import Path
import pytest

submitit = pytest.importorskip('submitit', reason='submitit is not installed (pip install submitit)')
from graphreg.experiments import config_from_dict, dumps_toml, load_results, list_jobs, make_jobs
from graphreg.launch import submit_sweep, submit_eval
from conftest import SMOKE

TRAINING = re.compile(r'^\[\d+/\d+\] (\S+): training ', re.M)

@pytest.fixture
def tiny(tmp_path):
    "configs/smoke.toml shrunk to two variants, one seed, one epoch on 256 images and the clean test, written to a file."
    d = tomllib.loads(SMOKE.read_text())
    d.update(name='launch', seeds=[0], variants={'Vanilla': {}, 'Proposed': d['variants']['Proposed']}, tests={'clean': {}})
    d['train']['epochs'], d['data']['train_subset'] = 1, 256
    p = tmp_path/'tiny.toml'; p.write_text(dumps_toml(d))
    return p

def local_executor(folder):
    ex = submitit.LocalExecutor(folder)
    ex.update_parameters(timeout_min=5)
    return ex

def test_two_local_workers_share_a_sweep(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')   # the tasks inherit this environment
    rd, ids = tmp_path/'run', sorted(j.id for j in make_jobs(config_from_dict(tomllib.loads(tiny.read_text()))))
    jobs = submit_sweep(tiny, rd, n_workers=2, executor=local_executor(tmp_path/'submitit'))
    assert len(jobs) == 2
    reports = [j.result() for j in jobs]               # raises with the task's traceback if a worker failed
    assert {r['worker_id'] for r in reports} == {0, 1}
    assert sorted(TRAINING.findall('\n'.join(j.stdout() or '' for j in jobs))) == ids   # each job trained once, over both workers
    assert sorted(sum((r['jobs'] for r in reports), [])) == ids
    df = load_results(rd)
    assert sorted(df.job.unique()) == ids and set(df.test) == {'clean'}
    assert set(list_jobs(rd).status) == {'done'}
    assert list(rd.glob('jobs/*/claim')) == []
    assert submit_sweep(tiny, rd, n_workers=2, executor=local_executor(tmp_path/'submitit')) == []   # nothing left
