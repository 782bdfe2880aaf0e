#!/usr/bin/env python
"""Cost of `LaplacianRegularizer` per training step, as ratios to a plain step measured in the same run.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/step_overhead.py            # full table (several minutes)
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/step_overhead.py --quick    # fewer steps, smaller cases
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/step_overhead.py --cases w16 --variants lowrank --steps 25 --no-memory
                                                                  # development check: width 16, plain vs low-rank only

Every variant of a case is a fastai `Learner` on its own copy of the same initial `PreActResNet18` and the same
batch (uniform random images in [0, 1], random labels: step times do not depend on pixel values). One "step" is
one training batch of `learn.fit(1)` (forward, loss, the callback's hooks and penalty, backward, SGD step), timed
from the first `before_batch` to the last `after_batch` callback; validation is skipped. After warm-up steps,
each variant is timed in its own block, interleaved step by step with the plain step (alternating which goes
first), so that a change of machine load hits both alike and no third variant's memory traffic sits between them
(the dense variants' large temporaries measurably slowed the low-rank steps that followed them in a round robin
of all five: width-16 ratio 1.27-1.30 there against 1.17-1.21 paired). The table shows medians; a variant's ratio
is its median over the median of the plain steps of its own block, and the plain row pools all blocks. Ratios are
given for the wall-clock time and for the CPU time of this process (`time.process_time()` around the same span), which other
processes' load disturbs far less than the wall clock (on a busy machine, compare the CPU-time ratios).

Peak memory: one more step of each variant under `torch.profiler` with `profile_memory=True`; PyTorch's memory
timeline (the data behind `prof.export_memory_timeline`) lists every CPU tensor created and destroyed during the
step, and the peak of their running total is the step's peak memory above what was allocated before it (weights,
gradients and optimizer state persist between steps and are not counted). This counts tensor memory exactly,
unlike the process RSS (allocator caching, libraries) or `tracemalloc` (which does not see PyTorch's allocator).

Variants: `plain` (no callback); `lowrank` (`LaplacianRegularizer(gamma=0.01, m=2)`, complete cosine graph: the
exact low-rank path, layer by layer on the CPU and with layers of equal size batched on CUDA, the defaults);
`batched` and `per-layer` (the same with `batch_layers=True` / `False`: the width-16 table shows the non-default
one of the two); `dense` (the same with `method='dense'`: a b×b similarity, Laplacian and matrix products per
layer, the baseline); `k=10`, `k=50` (k-NN graphs, necessarily dense).
"""
import argparse, copy, os, platform, statistics, sys, time
from pathlib import Path
import torch
from torch import nn
from fastai.learner import Learner
from fastai.callback.core import Callback, CancelValidException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from graphreg.models import PreActResNet18
from graphreg.data import tensor_dls
from graphreg.callbacks import LaplacianRegularizer

def _sync(learn):
    "Wait for the GPU's queued work, so that wall-clock stamps bracket it (no-op on the CPU)."
    if torch.device(learn.dls.device).type == 'cuda': torch.cuda.synchronize(learn.dls.device)

class _Start(Callback):
    order = -1000
    def before_batch(self): _sync(self.learn); self.learn._c0, self.learn._t0 = time.process_time(), time.perf_counter()
    def before_validate(self): raise CancelValidException()

class _End(Callback):
    order = 1000
    def after_batch(self):
        if self.training:
            _sync(self.learn)
            self.learn.step_times.append(time.perf_counter() - self.learn._t0)
            self.learn.cpu_times.append(time.process_time() - self.learn._c0)

VARIANTS = {
    'plain': lambda: [],
    'lowrank': lambda: [LaplacianRegularizer(gamma=0.01, m=2)],
    'dense': lambda: [LaplacianRegularizer(gamma=0.01, m=2, method='dense')],
    'k=10': lambda: [LaplacianRegularizer(gamma=0.01, m=2, k=10)],
    'k=50': lambda: [LaplacianRegularizer(gamma=0.01, m=2, k=50)],
    'batched': lambda: [LaplacianRegularizer(gamma=0.01, m=2, batch_layers=True)],
    'per-layer': lambda: [LaplacianRegularizer(gamma=0.01, m=2, batch_layers=False)],
}

def make_learners(width, chans, size, bs, variants, seed=0, device='cpu'):
    "One Learner per variant, same initial weights, same single training batch."
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(bs, chans, size, size, generator=g)
    y = torch.randint(0, 10, (bs,), generator=g)
    dls = tensor_dls(x, y, x[:2], y[:2], bs=bs, n_classes=10, device=device)
    torch.manual_seed(seed)
    model = PreActResNet18(10, chans, width, *dls.stats)
    learners = {}
    for v in variants:
        l = Learner(dls, copy.deepcopy(model).to(device), loss_func=nn.CrossEntropyLoss(), lr=1e-3,
                    cbs=[_Start(), _End()] + VARIANTS[v]())
        l.step_times, l.cpu_times = [], []
        learners[v] = l
    return learners

def one_step(learn):
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    return learn.step_times[-1], learn.cpu_times[-1]

def peak_step_memory(learn) -> float:
    "Peak of the tensor memory created during one training step, above its start (MiB)."
    if torch.device(learn.dls.device).type == 'cuda':   # the caching allocator's own statistics
        dev = learn.dls.device
        torch.cuda.synchronize(dev); torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        one_step(learn); torch.cuda.synchronize(dev)
        return (torch.cuda.max_memory_allocated(dev) - base) / 2**20
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as prof:
        one_step(learn)
    cur = peak = 0
    for _, action, key, size in prof._memory_profile().timeline:
        if key[0].device.type != "cpu": continue
        if action.name == 'CREATE': cur += size
        elif action.name == 'DESTROY': cur -= size
        peak = max(peak, cur)
    return peak / 2**20

def run_case(name, width, chans, size, bs, variants, steps, warmup, memory, device='cpu'):
    "Time every variant in its own block, interleaved step by step with the plain step; ratios to that block's plain."
    learners = make_learners(width, chans, size, bs, variants, device=device)
    for _ in range(warmup):
        for v in variants: one_step(learners[v])
    times, cpu, ref = {v: [] for v in variants}, {v: [] for v in variants}, {}
    for v in [v for v in variants if v != 'plain']:
        pt, pc, vt, vc = [], [], [], []
        for i in range(steps):
            for u in (('plain', v) if i % 2 == 0 else (v, 'plain')):
                w, c = one_step(learners[u])
                (pt if u == 'plain' else vt).append(w); (pc if u == 'plain' else vc).append(c)
        times[v], cpu[v], times['plain'], cpu['plain'] = vt, vc, times['plain'] + pt, cpu['plain'] + pc
        ref[v] = (statistics.median(pt), statistics.median(pc))
    med = {v: statistics.median(t) for v, t in times.items()}
    cmed = {v: statistics.median(t) for v, t in cpu.items()}
    ref['plain'] = (med['plain'], cmed['plain'])
    mem = {v: peak_step_memory(learners[v]) for v in variants} if memory else {}
    rows = []
    for v in variants:
        rows.append(dict(case=name, variant=v, median_s=med[v], ratio=med[v] / ref[v][0],
                         cpu_s=cmed[v], cpu_ratio=cmed[v] / ref[v][1],
                         spread=(min(times[v]) / med[v], max(times[v]) / med[v]),
                         mem_mib=mem.get(v), mem_ratio=(mem[v] / mem['plain']) if mem else None, n=len(times[v])))
    return rows

def machine(device='cpu') -> str:
    cpu = platform.processor() or platform.machine()
    gpu = f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}), " if torch.device(device).type == 'cuda' else ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    return (f"{gpu}{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} intra-op threads, Python {platform.python_version()}")

def fmt_table(rows) -> str:
    out = ['| case | variant | median step (s) | ratio to plain | min/max over median | median CPU time (s) | CPU-time ratio | '
           'peak step memory (MiB) | memory ratio |',
           '|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        mem = f"{r['mem_mib']:.1f}" if r['mem_mib'] is not None else '–'
        mr = f"{r['mem_ratio']:.3f}" if r['mem_ratio'] is not None else '–'
        out.append(f"| {r['case']} | {r['variant']} | {r['median_s']:.4f} | **{r['ratio']:.3f}** | "
                   f"{r['spread'][0]:.2f}–{r['spread'][1]:.2f} | {r['cpu_s']:.4f} | {r['cpu_ratio']:.3f} | {mem} | {mr} |")
    return '\n'.join(out)

def targets(rows) -> list[str]:
    "The issue's targets checked against this run."
    r = {(x['case'], x['variant']): x for x in rows}
    res = []
    def chk(label, val, lim):
        if val is not None: res.append(f"- {label}: {val:.3f} (target ≤ {lim:.3f}) — {'met' if val <= lim else 'MISSED'}")
    g = lambda c, v, f='ratio': r[(c, v)][f] if (c, v) in r else None
    chk('width 64, 3×32×32, batch 100, lowrank/plain step time', g('w64 3x32x32 b100', 'lowrank'), 1.10)
    chk('width 64, 3×32×32, batch 100, lowrank/plain CPU time', g('w64 3x32x32 b100', 'lowrank', 'cpu_ratio'), 1.10)
    chk('width 16, 1×28×28, batch 100, lowrank/plain step time', g('w16 1x28x28 b100', 'lowrank'), 1.15)
    chk('width 16, 1×28×28, batch 100, lowrank/plain CPU time', g('w16 1x28x28 b100', 'lowrank', 'cpu_ratio'), 1.15)
    b100, b1000 = g('w16 1x28x28 b100', 'lowrank'), g('w16 1x28x28 b1000', 'lowrank')
    if b100 is not None: chk('width 16, batch 1000, lowrank/plain (≤ batch-100 ratio + 0.05)', b1000, b100 + 0.05)
    for c in ('w16 1x28x28 b100', 'w64 3x32x32 b100', 'w16 1x28x28 b1000'):
        chk(f'{c}: peak step memory lowrank/plain', g(c, 'lowrank', 'mem_ratio'), 1.2)
    return res

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 warm-up + 5 timed steps, skip width 64 and batch 1000')
    p.add_argument('--steps', type=int, default=None, help='timed steps per variant (default 15; 7 for the slow cases)')
    p.add_argument('--warmup', type=int, default=3, help='warm-up steps per variant')
    p.add_argument('--cases', default='w16,knn,b1000,w64', help='comma-separated subset of: w16, knn, b1000, w64')
    p.add_argument('--variants', default=None, help='comma-separated subset of the width-16 batch-100 variants '
                   '(plain is always included), e.g. lowrank for a quick check of the regularizer alone')
    p.add_argument('--no-memory', action='store_true', help='skip the profiled memory step')
    p.add_argument('--device', default='cpu', help="'cpu' (default) or a CUDA device such as 'cuda'; on a GPU the "
                   "timers wait for its queued work and peak memory is the caching allocator's peak")
    p.add_argument('--out', type=Path, default=None, help='also write the table (markdown) to this file')
    a = p.parse_args(argv)
    if torch.device(a.device).type == 'cuda' and not torch.cuda.is_available():
        p.error(f"--device {a.device}: CUDA is not available on this machine")
    cases = a.cases.split(',')
    if a.quick: cases = [c for c in cases if c in ('w16', 'knn')]
    steps = a.steps or (5 if a.quick else 15)
    slow_steps = a.steps or (5 if a.quick else 7)
    mem = not a.no_memory
    t0, load0 = time.time(), os.getloadavg()
    rows = []
    other = 'per-layer' if torch.device(a.device).type == 'cuda' else 'batched'   # the non-default way of computing it
    w16 = ['plain', 'lowrank', other, 'dense'] + (['k=10', 'k=50'] if 'knn' in cases else [])
    if a.variants: w16 = ['plain'] + [v for v in a.variants.split(',') if v != 'plain']
    if 'w16' in cases or 'knn' in cases:
        rows += run_case('w16 1x28x28 b100', 16, 1, 28, 100, w16, steps, a.warmup, mem, a.device)
    if 'b1000' in cases:
        rows += run_case('w16 1x28x28 b1000', 16, 1, 28, 1000, ['plain', 'lowrank', 'dense'], slow_steps, 2, mem, a.device)
    if 'w64' in cases:
        rows += run_case('w64 3x32x32 b100', 64, 3, 32, 100, ['plain', 'lowrank', 'dense'], slow_steps, 2, mem, a.device)
    load1 = os.getloadavg()
    head = (f"Machine: {machine(a.device)}\n\nLoad average (1 min) {load0[0]:.2f} at the start, {load1[0]:.2f} at the end; "
            f"{time.time() - t0:.0f} s in all. m = 2, γ = 0.01, SGD step included.\n")
    table = fmt_table(rows)
    tg = '\n'.join(targets(rows))
    text = f"{head}\n{table}\n\n{tg}\n"
    print(text)
    if a.out: a.out.write_text(text)
    return rows

if __name__ == '__main__': main()
