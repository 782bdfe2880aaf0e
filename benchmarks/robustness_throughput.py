#!/usr/bin/env python
"""Throughput of the robustness tests as a ratio to the work they must do: forward passes, or forward+backward passes.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/robustness_throughput.py [--n 1000] [--width 16] [--repeats 5] [--attacks]

Model: `PreActResNet18` (width `--width`, untrained: the cost of a forward pass and of the tests does not depend on
the weights) sized for Fashion-MNIST; data: the first `--n` images of the Fashion-MNIST test set, already on the
device as tensors. The baseline is `model(x)` under `torch.inference_mode()` over the same batches (batch size
`--bs`); the noise test counts images × draws, the dropout test images × runs. Each measurement is repeated
`--repeats` times, interleaved, after one warm-up; the medians are reported.

Each test's ratio is the time its passes alone would take, from the baselines measured in the same run, over the time
it takes: `forward` (images/s of `model(x)`) and `fwd+bwd` (images/s of the gradient of the cross-entropy with
respect to the images, as FGSM and PGD compute it). Work of each test per image: noise and dropout, one forward per
draw; quantization, one forward per bit width (8, 5 and 2 bits); FGSM, one forward+backward and one forward per SNR
(40, 30 and 20 dB); PGD (`--attacks`), 20 forward+backward passes and one forward per ε. Target: >= 0.8 for
each; a ratio near 1 means the test does no work beyond its passes (no per-image Python loop, no extra copies).

With `--attacks` it also times, once each on the first `--attack-n` images, PGD (L∞ ε = 0.01, 20 steps, 1 and 3
restarts; L2 ε = 0.5), AutoAttack (`--aa-version`, `--aa-steps`, `--queries`; ε = 0.01) and Square (ε = 0.01): images/s,
no goal. These attacks skip misclassified images, so their cost depends on the weights: the model is then first
trained for one epoch on the 1000 training images.
"""
import argparse, statistics, time
import torch
from graphreg.data import fashion_mnist_dls, preact_resnet18_for
from graphreg.robustness import (gaussian_noise_accuracy, dropout_accuracy, quantized_accuracy, fgsm_accuracy, pgd_accuracy,
                                 autoattack_accuracy, square_accuracy)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=1000, help='test images')
    p.add_argument('--bs', type=int, default=100, help='batch size')
    p.add_argument('--width', type=int, default=16, help='PreActResNet18 width')
    p.add_argument('--draws', type=int, default=4, help='noise draws / dropout runs per measurement')
    p.add_argument('--repeats', type=int, default=5, help='timed repeats (medians are reported)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--attacks', action='store_true', help='also time PGD, AutoAttack and Square (on a model trained one epoch)')
    p.add_argument('--attack-n', type=int, default=100, help='images for the attacks')
    p.add_argument('--aa-version', default='reduced', help="AutoAttack version: 'standard' or 'reduced'")
    p.add_argument('--aa-steps', type=int, default=100, help='AutoAttack iterations (APGD, FAB)')
    p.add_argument('--queries', type=int, default=5000, help='Square queries (alone and in AutoAttack)')
    a = p.parse_args()
    dev = torch.device(a.device)
    torch.manual_seed(0)
    dls = fashion_mnist_dls(bs=a.bs, n_train=1000, n_test=a.n, device=dev)
    model = preact_resnet18_for(dls, width=a.width).to(dev).eval()
    x, y = dls.test.dataset.x.to(dev), dls.test.dataset.y.to(dev)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)

    def forward():
        with torch.inference_mode():
            for i in range(0, len(x), a.bs): model(x[i:i + a.bs])
        return len(x)
    def fwd_bwd():
        for i in range(0, len(x), a.bs):
            xi = x[i:i + a.bs].clone().requires_grad_(True)
            torch.autograd.grad(torch.nn.functional.cross_entropy(model(xi), y[i:i + a.bs], reduction='sum'), xi)
        return len(x)
    for q in model.parameters(): q.requires_grad_(False)          # as the tests run it: gradients w.r.t. the images only
    snrs, bits = [40., 30., 20.], [8, 5, 2]
    kw = dict(bs=a.bs, silent=True)
    # each test: (function, work per image in forwards, in forward+backward passes)
    tests = {'noise': (lambda: gaussian_noise_accuracy(model, (x, y), snr_db=20., n_draws=a.draws, **kw), a.draws, 0),
             'dropout': (lambda: dropout_accuracy(model, (x, y), p=0.25, n_runs=a.draws, **kw), a.draws, 0),
             'quantization': (lambda: quantized_accuracy(model, (x, y), n_bits=bits, **kw), len(bits), 0),
             'fgsm': (lambda: fgsm_accuracy(model, (x, y), snr_db=snrs, **kw), len(snrs), 1)}
    fns = dict(forward=forward, fwd_bwd=fwd_bwd) | {k: v[0] for k, v in tests.items()}
    secs = {k: [] for k in fns}
    for f in fns.values(): f()                                    # warm-up
    for _ in range(a.repeats):
        for k, f in fns.items():
            sync(); t = time.perf_counter(); f(); sync()
            secs[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in secs.items()}
    t_f, t_fb = med['forward'] / len(x), med['fwd_bwd'] / len(x)  # seconds per image
    print(f"device={dev} torch_threads={torch.get_num_threads()} n={len(x)} bs={a.bs} width={a.width} "
          f"draws={a.draws} repeats={a.repeats}")
    print("| test | work per image | median time (s) | images x draws / s | ratio to its passes | target >= 0.8 |")
    print("|---|---|---|---|---|---|")
    print(f"| forward | 1 forward | {med['forward']:.3f} | {1 / t_f:.0f} | 1 (baseline) | |")
    print(f"| fwd+bwd | 1 forward+backward | {med['fwd_bwd']:.3f} | {1 / t_fb:.0f} | 1 (baseline) | |")
    for k, (_, nf, nfb) in tests.items():
        ratio = len(x) * (nf * t_f + nfb * t_fb) / med[k]
        work = ' + '.join(w for w in (f"{nfb} fwd+bwd" if nfb else '', f"{nf} forward") if w)
        print(f"| {k} | {work} | {med[k]:.3f} | {len(x) * nf / med[k]:.0f} | {ratio:.2f} | {'met' if ratio >= 0.8 else 'MISSED'} |")
    for q in model.parameters(): q.requires_grad_(True)
    if a.attacks: time_attacks(a, dls, model, x, y, sync, t_f, t_fb)

def time_attacks(a, dls, model, x, y, sync, t_f, t_fb):
    "Images/s of PGD, AutoAttack and Square, one run each, on a model trained for one epoch; PGD as a ratio to its passes"
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.optimizer import Adam
    from fastai.callback.progress import ProgressCallback   # noqa: F401 (patches Learner.no_bar)
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), opt_func=Adam)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 3e-3)
    model.eval()
    data = (x[:a.attack_n], y[:a.attack_n])
    kw = dict(bs=a.bs, silent=True)
    runs = {'pgd_linf': lambda: pgd_accuracy(model, data, eps=0.01, **kw),
            'pgd_linf_r3': lambda: pgd_accuracy(model, data, eps=0.01, restarts=3, **kw),
            'pgd_l2': lambda: pgd_accuracy(model, data, eps=0.5, norm='L2', **kw),
            f'autoattack_{a.aa_version}': lambda: autoattack_accuracy(model, data, eps=0.01, version=a.aa_version,
                                                                     steps=a.aa_steps, n_queries=a.queries, n=None, **kw),
            'square_linf': lambda: square_accuracy(model, data, eps=0.01, n_queries=a.queries, n=None, **kw)}
    with torch.inference_mode(): clean = (model(data[0]).argmax(1) == data[1]).float().mean().item()
    print(f"attacks on {len(data[0])} images (aa_steps={a.aa_steps}, queries={a.queries}); clean accuracy {clean:.3f}; "
          f"the untrained model's pass times stand for the trained one's (same shapes)")
    print("| attack | images/s | seconds | robust accuracy | ratio to 20 fwd+bwd + 1 forward per image | target >= 0.8 |")
    print("|---|---|---|---|---|---|")
    for k, f in runs.items():
        sync(); t = time.perf_counter(); r = f(); sync(); dt = time.perf_counter() - t
        ratio = ''
        if k in ('pgd_linf', 'pgd_l2'):   # 20 steps, one restart: every image takes every step
            ratio = len(data[0]) * (20 * t_fb + t_f) / dt
        cells = (f"{ratio:.2f}", 'met' if ratio >= 0.8 else 'MISSED') if ratio != '' else ('(no fixed work)', '')
        print(f"| {k} | {len(data[0]) / dt:.2f} | {dt:.1f} | {r.value.iloc[0]:.3f} | {cells[0]} | {cells[1]} |")

if __name__ == '__main__': main()
