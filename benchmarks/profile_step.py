#!/usr/bin/env python
"""Where the regularizer's time goes: operator-level profile of a regularized training step minus a plain one.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/profile_step.py                  # width 16, 1×28×28, CPU
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/profile_step.py --width 64 --chans 3 --size 32
    python benchmarks/profile_step.py --device cuda                                # on a GPU: adds kernel times

Both variants are the Learners of `step_overhead.py` (same weights, same batch). After warm-up, `--steps` steps
of each run under `torch.profiler`; the table lists, per operator (and input shapes with `--shapes`), the
regularized step's self time minus the plain step's, per step, largest first, with the number of calls. On a GPU
it also gives the self CUDA time, and the header counts operator calls per step: on a GPU a step of small layers is
bound by how many operators are launched rather than by their arithmetic.
"""
import argparse, sys
from collections import defaultdict
from pathlib import Path
import torch
from torch.profiler import profile, ProfilerActivity

sys.path.insert(0, str(Path(__file__).resolve().parent))
from step_overhead import make_learners, one_step

def op_table(learn, steps:int, cuda:bool, shapes:bool) -> dict:
    "Per-operator (self CPU µs, self CUDA µs, calls) per step, from `steps` profiled training steps."
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=acts, record_shapes=shapes) as prof:
        for _ in range(steps): one_step(learn)
    res = defaultdict(lambda: [0., 0., 0.])
    for e in prof.key_averages(group_by_input_shape=shapes):
        k = (e.key, str(e.input_shapes)[:70] if shapes else '')
        r = res[k]
        r[0] += e.self_cpu_time_total / steps
        r[1] += getattr(e, 'self_device_time_total', 0) / steps
        r[2] += e.count / steps
    return res

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--width', type=int, default=16); p.add_argument('--chans', type=int, default=1)
    p.add_argument('--size', type=int, default=28); p.add_argument('--bs', type=int, default=100)
    p.add_argument('--device', default='cpu'); p.add_argument('--steps', type=int, default=5)
    p.add_argument('--top', type=int, default=25, help='rows of the table')
    p.add_argument('--shapes', action='store_true', help='one row per operator and input shapes')
    a = p.parse_args(argv)
    cuda = torch.device(a.device).type == 'cuda'
    if cuda and not torch.cuda.is_available(): p.error(f"--device {a.device}: CUDA is not available on this machine")
    L = make_learners(a.width, a.chans, a.size, a.bs, ['plain', 'lowrank'], device=a.device)
    for _ in range(3):
        for l in L.values(): one_step(l)
    tabs = {v: op_table(l, a.steps, cuda, a.shapes) for v, l in L.items()}
    step = {v: sorted(l.step_times[-a.steps:])[a.steps // 2] for v, l in L.items()}
    keys = set(tabs['plain']) | set(tabs['lowrank'])
    z = [0., 0., 0.]
    diff = {k: [tabs['lowrank'].get(k, z)[i] - tabs['plain'].get(k, z)[i] for i in range(3)] for k in keys}
    calls = {v: sum(r[2] for k, r in t.items() if k[0].startswith('aten::')) for v, t in tabs.items()}
    print(f"width {a.width}, {a.chans}x{a.size}x{a.size}, batch {a.bs}, {a.device}, {torch.get_num_threads()} threads; "
          f"median profiled step: plain {step['plain'] * 1e3:.1f} ms, regularized {step['lowrank'] * 1e3:.1f} ms; "
          f"aten operator calls per step: plain {calls['plain']:.0f}, regularized {calls['lowrank']:.0f}")
    col = 1 if cuda else 0
    print(f"\n| operator | shapes | Δ self CPU (ms/step) | Δ self CUDA (ms/step) | Δ calls/step |\n|---|---|---|---|---|")
    for k, (c, g, n) in sorted(diff.items(), key=lambda kv: -kv[1][col])[:a.top]:
        print(f"| {k[0]} | {k[1]} | {c / 1e3:.2f} | {g / 1e3:.2f} | {n:.0f} |")
    tot = [sum(d[i] for d in diff.values()) for i in range(3)]
    print(f"| total | | {tot[0] / 1e3:.2f} | {tot[1] / 1e3:.2f} | {tot[2]:.0f} |")

if __name__ == '__main__': main()
