#!/usr/bin/env python
"""Images/s of the Gaussian-noise and test-time-dropout tests as a ratio to the plain forward throughput.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/robustness_throughput.py [--n 1000] [--width 16] [--repeats 5]

Model: `PreActResNet18` (width `--width`, untrained: the cost of a forward pass and of the tests does not depend on
the weights) sized for Fashion-MNIST; data: the first `--n` images of the Fashion-MNIST test set, already on the
device as tensors. The baseline is `model(x)` under `torch.inference_mode()` over the same batches (batch size
`--bs`); the noise test counts images × draws, the dropout test images × runs. Each measurement is repeated
`--repeats` times, interleaved, after one warm-up; the medians are reported. Goal: ratios >= 0.9.

With `--attacks` it also times, once each on the first `--attack-n` images, PGD (L∞ ε = 0.01, 20 steps, 1 and 3
restarts; L2 ε = 0.5), AutoAttack (`--aa-version`, `--aa-steps`, `--queries`; ε = 0.01) and Square (ε = 0.01): images/s,
no goal. These attacks skip misclassified images, so their cost depends on the weights: the model is then first
trained for one epoch on the 1000 training images.
"""
import argparse, statistics, time
import torch
from graphreg.data import fashion_mnist_dls, preact_resnet18_for
from graphreg.robustness import gaussian_noise_accuracy, dropout_accuracy, pgd_accuracy, autoattack_accuracy, square_accuracy

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
    noise = lambda: (gaussian_noise_accuracy(model, (x, y), snr_db=20., n_draws=a.draws, bs=a.bs, silent=True), len(x) * a.draws)[1]
    drop = lambda: (dropout_accuracy(model, (x, y), p=0.25, n_runs=a.draws, bs=a.bs, silent=True), len(x) * a.draws)[1]
    fns = dict(forward=forward, noise=noise, dropout=drop)
    rates = {k: [] for k in fns}
    for f in fns.values(): f()                                    # warm-up
    for _ in range(a.repeats):
        for k, f in fns.items():
            sync(); t = time.perf_counter(); n = f(); sync()
            rates[k].append(n / (time.perf_counter() - t))
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"device={dev} torch_threads={torch.get_num_threads()} n={len(x)} bs={a.bs} width={a.width} "
          f"draws={a.draws} repeats={a.repeats}")
    for k in fns:
        ratio = '' if k == 'forward' else f"  ratio to forward: {med[k] / med['forward']:.3f}"
        print(f"{k:8s} {med[k]:9.1f} images/s (median; min {min(rates[k]):.1f}, max {max(rates[k]):.1f}){ratio}")
    if a.attacks: time_attacks(a, dls, model, x, y, sync)

def time_attacks(a, dls, model, x, y, sync):
    "Images/s of PGD, AutoAttack and Square, one run each, on a model trained for one epoch"
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
    print(f"attacks on {len(data[0])} images (aa_steps={a.aa_steps}, queries={a.queries}); clean accuracy {clean:.3f}")
    for k, f in runs.items():
        sync(); t = time.perf_counter(); r = f(); sync(); dt = time.perf_counter() - t
        print(f"{k:20s} {len(data[0]) / dt:9.2f} images/s ({dt:.1f} s; robust accuracy {r.value.iloc[0]:.3f})")

if __name__ == '__main__': main()
