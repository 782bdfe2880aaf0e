"""A plain training step of PreActResNet18 (width 16, batch 100, SGD) eagerly and under `torch.compile`, paired step
by step in one run; prints the compile time and the median ratio compiled/eager (one thread).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/compile_step.py
"""
import time, torch, torch.nn as nn, statistics as st
from graphreg.models import PreActResNet18
torch.set_num_threads(1); torch.manual_seed(0)
def make():
    torch.manual_seed(0)
    m = PreActResNet18(10, 1, 16)
    return m, torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
x = torch.rand(100, 1, 28, 28); y = torch.randint(0, 10, (100,))
lossf = nn.CrossEntropyLoss()
def step(m, opt):
    opt.zero_grad(); l = lossf(m(x), y); l.backward(); opt.step(); return l
m0, o0 = make(); m1, o1 = make()
t = time.time(); c1 = torch.compile(m1); step(c1, o1); print('compile+first step', round(time.time() - t, 1), 's', flush=True)
for _ in range(2): step(m0, o0); step(c1, o1)
r = []
for _ in range(8):
    t = time.perf_counter(); step(m0, o0); a = time.perf_counter() - t
    t = time.perf_counter(); step(c1, o1); b = time.perf_counter() - t
    r.append(b / a); print(f'eager {a:.3f}s compiled {b:.3f}s', flush=True)
print('median compiled/eager', round(st.median(r), 3))
