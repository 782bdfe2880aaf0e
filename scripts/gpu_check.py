#!/usr/bin/env python
"""Checks of graphreg's CUDA paths, for a machine with an NVIDIA GPU (CI has none; run by hand where one exists).

    python scripts/gpu_check.py                 # numerics + a training step on the GPU; exits 1 on any failure

1. The exact low-rank smoothness (values and gradients) on the GPU in float32 agrees with the dense b×b reference
   computed in float64 on the CPU, for m = 1, 2, 3 and activations with zero rows.
2. One `LaplacianRegularizer` training step of a small `PreActResNet18` on the GPU gives the same Δ and
   gradients (float32 rounding, TF32 off) as the same step on the CPU, through the deferred-gradient hooks;
   the same comparison without the penalty (γ = 0) shows the rounding floor of the network itself.
3. Mixed precision (`learn.to_fp16()`) trains a few steps on the GPU with a finite Δ and finite weights.

The step-time ratios on the GPU come from `benchmarks/step_overhead.py --device cuda`.
"""
import copy, sys
from pathlib import Path
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from graphreg.regularizer import dense_label_smoothness, lowrank_label_smoothness
from graphreg.smoothness import label_signals
from graphreg.models import PreActResNet18
from graphreg.data import tensor_dls
from graphreg.callbacks import LaplacianRegularizer
from fastai.learner import Learner
from fastai.callback.core import Callback

class _KeepGrads(Callback):
    "Copy the parameters' gradients after the backward pass (the optimizer zeroes them after its step)."
    order = 100
    def after_backward(self): self.learn.kept = [p.grad.detach().cpu().clone() for p in self.model.parameters()]

def check(name, ok, detail=''):
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}", flush=True)
    return bool(ok)

def rel(a, b): return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))

def numerics(dev) -> bool:
    "Low-rank on the GPU (float32) against the dense reference on the CPU (float64)."
    ok = True
    g = torch.Generator().manual_seed(0)
    x64 = torch.relu(torch.randn(100, 16, 7, 7, generator=g, dtype=torch.float64)); x64[[5, 50]] = 0
    y = torch.randint(0, 10, (100,), generator=g)
    for m in (1, 2, 3):
        s64 = label_signals(y, 10, dtype=torch.float64)
        xr = x64.clone().requires_grad_(); vr = dense_label_smoothness(xr, s64, m); vr.backward()
        xg = x64.float().to(dev).requires_grad_(); vg = lowrank_label_smoothness(xg, label_signals(y, 10).to(dev), m)
        vg.backward()
        ev, eg = abs(vg.item() - vr.item()) / abs(vr.item()), rel(xg.grad.detach().double().cpu(), xr.grad)
        ok &= check(f'low-rank on {dev} vs dense float64, m={m}', ev < 1e-4 and eg < 1e-3, f'value rel {ev:.1e}, grad rel {eg:.1e}')
    return ok

def learner(dev, x, y, model, gamma):
    dls = tensor_dls(x, y, x[:4], y[:4], bs=len(x), n_classes=10, device=dev)
    return Learner(dls, copy.deepcopy(model).to(dev), loss_func=nn.CrossEntropyLoss(), lr=0.0,
                   cbs=[LaplacianRegularizer(gamma=gamma, m=2), _KeepGrads()])

def training_step(dev) -> bool:
    "One step on the GPU against the same step on the CPU (lr 0: compare the gradients), without and with the penalty."
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False   # compare float32 with float32
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
    torch.manual_seed(0); model = PreActResNet18(10, 1, 8)
    names = [n for n, _ in model.named_parameters()]
    ok = True
    for gamma in (0.0, 0.1):
        res = {}
        for d in ('cpu', dev):
            l = learner(d, x, y, model, gamma)
            with l.no_bar(), l.no_logging(): l.fit(1)
            reg = l.cbs.filter(lambda c: isinstance(c, LaplacianRegularizer))[0]
            res[d] = (torch.cat([t.flatten() for t in l.kept]), l.kept, reg.epoch_delta)
        a, b = res[dev][0], res['cpu'][0]
        if float(b.abs().max()) == 0: return check('training step: gradients captured', False)
        e = float((a - b).norm() / b.norm())
        worst = max(range(len(names)), key=lambda i: float((res[dev][1][i] - res['cpu'][1][i]).norm() / res['cpu'][1][i].norm().clamp_min(1e-30)))
        we = float((res[dev][1][worst] - res['cpu'][1][worst]).norm() / res['cpu'][1][worst].norm().clamp_min(1e-30))
        dd = abs(res[dev][2] - res['cpu'][2]) / abs(res['cpu'][2])
        ok &= check(f'training step on {dev} vs cpu, gamma={gamma}', e < 1e-3 and dd < 1e-4,
                    f'all-parameter gradient rel {e:.1e} (worst tensor {names[worst]}: {we:.1e}), Δ rel {dd:.1e}')
    torch.backends.cudnn.allow_tf32 = True
    return ok

def mixed_precision(dev) -> bool:
    "A few fp16 autocast steps with the regularizer: finite Δ and weights."
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(256, 1, 28, 28, generator=g), torch.randint(0, 10, (256,), generator=g)
    torch.manual_seed(0)
    dls = tensor_dls(x, y, x[:64], y[:64], bs=64, n_classes=10, device=dev)
    l = Learner(dls, PreActResNet18(10, 1, 8).to(dev), loss_func=nn.CrossEntropyLoss(), lr=0.01,
                cbs=[LaplacianRegularizer(gamma=0.1, m=2)]).to_fp16()
    with l.no_bar(), l.no_logging(): l.fit(2)
    reg = l.cbs.filter(lambda c: isinstance(c, LaplacianRegularizer))[0]
    fin = all(torch.isfinite(p).all() for p in l.model.parameters())
    return check(f'fp16 training on {dev}', fin and all(map(lambda v: v == v, reg.delta_history)),
                 f'Δ per epoch {[round(v, 2) for v in reg.delta_history]}')

if __name__ == '__main__':
    if not torch.cuda.is_available(): sys.exit('no CUDA device on this machine: nothing to check')
    dev = 'cuda'
    print(f"{torch.cuda.get_device_name(dev)}, torch {torch.__version__}, CUDA {torch.version.cuda}", flush=True)
    res = [numerics(dev), training_step(dev), mixed_precision(dev)]
    sys.exit(0 if all(res) else 1)
