"""Property tests (hypothesis) for graphreg.models and graphreg.data: shapes, splits and batching on generated inputs."""
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

from graphreg.models import Normalize, PreActResNet18, count_parameters, relu_modules
from graphreg.data import split_indices, channel_stats, TensorImageDataset, TensorDL, tensor_dls

fast = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**31 - 1)


@st.composite
def n_and_pct(draw):
    "A size n and a valid_pct that leaves at least one item on each side."
    n = draw(st.integers(2, 2000))
    k = draw(st.integers(1, n - 1))
    return n, k / n


@fast
@given(n_and_pct(), seeds)
def test_split_is_a_seeded_partition(np_, seed):
    n, pct = np_
    tr, va = split_indices(n, pct, seed)
    assert len(va) == round(pct * n) and len(tr) + len(va) == n
    assert torch.equal(torch.cat([tr, va]).sort().values, torch.arange(n))
    assert bool((tr[1:] > tr[:-1]).all()) and bool((va[1:] > va[:-1]).all())
    tr2, va2 = split_indices(n, pct, seed)
    assert torch.equal(tr, tr2) and torch.equal(va, va2)


@fast
@given(st.integers(1, 60), st.integers(1, 17), st.booleans(), st.booleans(), seeds)
def test_tensor_dl_batches_cover_the_dataset(n, bs, shuffle, drop_last, seed):
    ds = TensorImageDataset(torch.rand(n, 1, 2, 2), torch.arange(n))
    dl = TensorDL(ds, bs=bs, shuffle=shuffle, drop_last=drop_last, seed=seed)
    ys = [b[1] for b in dl]
    assert len(ys) == len(dl)
    assert all(len(y) == bs for y in ys[:-1]) and (not ys or 0 < len(ys[-1]) <= bs)
    seen = torch.cat(ys) if ys else torch.zeros(0, dtype=torch.int64)
    assert len(seen) == (n // bs * bs if drop_last else n)
    assert len(set(seen.tolist())) == len(seen)                   # no item twice
    for b in dl: assert torch.equal(b[0], ds.x[b[1]])               # images travel with their labels
    if shuffle:   # the order is a function of the seed
        again = TensorDL(ds, bs=bs, shuffle=True, drop_last=drop_last, seed=seed)
        assert torch.equal(torch.cat([b[1] for b in again] or [torch.zeros(0, dtype=torch.int64)]), seen)
    else: assert torch.equal(seen, torch.arange(len(seen)))


@fast
@given(st.integers(1, 3), st.integers(20, 80), st.integers(0, 3), seeds)
def test_tensor_dls_valid_comes_from_train_only(c, n, k, seed):
    g = torch.Generator().manual_seed(seed)
    xtr, xte = torch.rand(n, c, 3, 3, generator=g), torch.rand(10, c, 3, 3, generator=g)
    ytr, yte = torch.arange(n) % 3, torch.arange(10) % 3
    pct = [0.0, 0.1, 0.25, 0.5][k]
    dls = tensor_dls(xtr, ytr, xte, yte, bs=8, valid_pct=pct, split_seed=seed % 1000)
    tr, va, te = dls.train.dataset, dls.valid.dataset, dls.test.dataset
    assert torch.equal(te.x, xte) and te.source == 'test'
    if pct == 0: assert va is te
    else:
        assert va.source == 'train' and torch.equal(va.x, xtr[va.idxs]) and torch.equal(tr.x, xtr[tr.idxs])
        assert not set(va.idxs.tolist()) & set(tr.idxs.tolist())
    m, s = channel_stats(tr.x)
    assert dls.stats == (m, s) and len(m) == c == dls.in_channels


@fast
@given(st.integers(1, 3), st.integers(1, 3), st.integers(2, 5), st.integers(1, 12), st.integers(1, 12), st.booleans())
def test_preact_resnet18_shapes_and_relus(c, width, n_classes, h, w, parseval):
    m = PreActResNet18(n_classes, c, width, mean=[0.5] * c, std=[0.25] * c, parseval=parseval).eval()
    with torch.no_grad(): out = m(torch.rand(2, c, h, w))
    assert out.shape == (2, n_classes) and bool(torch.isfinite(out).all())
    assert len(relu_modules(m)) == 17 and len(m.blocks) == 8
    assert count_parameters(m) == count_parameters(PreActResNet18(n_classes, c, width, parseval=not parseval))


@fast
@given(st.lists(st.floats(-2, 2), min_size=1, max_size=3), st.floats(0.05, 3), seeds)
def test_normalize_is_affine_and_invertible(mean, std, seed):
    c = len(mean)
    norm = Normalize(mean, [std] * c)
    x = torch.rand(3, c, 4, 4, generator=torch.Generator().manual_seed(seed))
    back = norm(x) * norm.std + norm.mean
    assert torch.allclose(back, x, atol=1e-5)
