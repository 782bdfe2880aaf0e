"The same config and seed give identical results on the CPU: two separate processes, bit-identical weights and rows."
import subprocess
import pandas as pd, torch
from conftest import graphreg_cmd, env

def test_same_config_same_results(make_config, tmp_path):
    cfg = make_config('det', variants={'Vanilla': {}, 'Proposed+Parseval': {'beta': 0.01, 'gamma': 0.01, 'm': 2}},
                      tests={'clean': {}, 'gaussian_noise': {'snr_db': [15.0], 'n_draws': 2},
                             'dropout': {'p': [0.25], 'n_runs': 2}, 'pgd_linf': {'steps': 2}})
    runs = [tmp_path/f'run{i}' for i in range(2)]            # two processes at once, each with its own run dir
    procs = [subprocess.Popen(graphreg_cmd('run', cfg, '--run-dir', rd, '--quiet', '--no-report'), env=env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for rd in runs]
    for p in procs:
        err = p.communicate(timeout=600)[1].decode()
        assert p.returncode == 0, err[-3000:]
    a, b = (pd.read_csv(rd/'results.csv').drop(columns='seconds') for rd in runs)
    pd.testing.assert_frame_equal(a, b)
    for jd in (runs[0]/'jobs').iterdir():
        s0, s1 = (torch.load(r/'jobs'/jd.name/'model.pt', weights_only=True)['state_dict'] for r in runs)
        assert s0.keys() == s1.keys() and all(torch.equal(s0[k], s1[k]) for k in s0), jd.name
