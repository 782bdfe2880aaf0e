#!/usr/bin/env python
"""Training-step time of PreActResNet18 (width 16, 1x28x28, batch 100) in float32, float32 + channels-last and
bfloat16 autocast (+ channels-last), plain and with `LaplacianRegularizer(gamma=0.01, m=2)`, as ratios to the plain
float32 step measured in the same run (rounds interleave the modes; medians over steps after warm-up).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/precision_step.py [--rounds 3] [--steps 8]

bfloat16 pays off only on CPUs with native bf16 arithmetic (AVX-512 BF16 or AMX); the script prints PyTorch's
CPU capability so a table says which kind of CPU it came from.
"""
import argparse, statistics, sys, time, warnings
from pathlib import Path
import torch
warnings.filterwarnings('ignore')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fastai.callback.core import Callback, CancelValidException
from graphreg.models import PreActResNet18
from graphreg.callbacks import LaplacianRegularizer, paper_learner
from graphreg.job import BF16Training, ChannelsLast
from graphreg.data import tensor_dls

class _Timer(Callback):
    order = 1000
    def __init__(self, ts): self.ts = ts
    def before_batch(self): self.t = time.perf_counter()
    def after_batch(self):
        if self.training: self.ts.append(time.perf_counter() - self.t)
    def before_validate(self): raise CancelValidException()

MODES = {'float32': [], 'float32 + channels-last': [ChannelsLast], 'bf16': [BF16Training],
         'bf16 + channels-last': [BF16Training, ChannelsLast]}

def step_time(dls, mode, reg, seed=0):
    torch.manual_seed(seed)
    cbs = [c() for c in MODES[mode]] + ([LaplacianRegularizer(gamma=0.01, m=2)] if reg else [])
    ts = []
    learn = paper_learner(dls, PreActResNet18(10, 1, 16), cbs=cbs + [_Timer(ts)])
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 0.01)
    return statistics.median(ts[2:])

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--rounds', type=int, default=3); p.add_argument('--steps', type=int, default=8)
    p.add_argument('--modes', default=','.join(MODES), help=f"comma-separated subset of {list(MODES)} (float32 is always run)")
    a = p.parse_args()
    modes = ['float32'] + [m for m in a.modes.split(',') if m != 'float32']
    bad = [m for m in modes if m not in MODES]
    if bad: p.error(f"unknown mode(s) {bad}; choose from {list(MODES)}")
    torch.manual_seed(0)
    n = 100 * (a.steps + 2)
    x, y = torch.rand(n, 1, 28, 28), torch.randint(0, 10, (n,))
    dls = tensor_dls(x, y, x[:100], y[:100], bs=100)
    res = {}
    for _ in range(a.rounds):
        for mode in modes:
            for reg in (False, True): res.setdefault((mode, reg), []).append(step_time(dls, mode, reg))
    base = statistics.median(res[('float32', False)])
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{torch.get_num_threads()} thread(s); plain float32 step {base * 1000:.0f} ms")
    print('| mode | plain / plain float32 | regularized / plain float32 | regularized / plain (same mode) |')
    print('|---|---|---|---|')
    for mode in modes:
        pl, rg = statistics.median(res[(mode, False)]), statistics.median(res[(mode, True)])
        print(f"| {mode} | {pl / base:.2f} | {rg / base:.2f} | {rg / pl:.2f} |")
    if 'bf16' not in modes: return
    bf_pl, bf_rg = statistics.median(res[('bf16', False)]), statistics.median(res[('bf16', True)])
    for what, v, target in (('bf16 regularized step / float32 plain step', bf_rg / base, 0.6),
                            ("bf16 regularizer ratio (regularized / plain, both bf16)", bf_rg / bf_pl, 1.15)):
        print(f"- {what}: {v:.2f} (target <= {target}) - {'met' if v <= target else 'MISSED'}")

if __name__ == '__main__': main()
