"""Property tests (hypothesis) for graphreg.graph and graphreg.smoothness: generated graphs and signals."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra.numpy import arrays

from graphreg.graph import (cosine_similarity, gaussian_similarity, knn_graph, laplacian,
                            laplacian_power_apply, gft)
from graphreg.smoothness import (label_signals, smoothness, label_smoothness, pairwise_smoothness,
                                 spectral_smoothness, bandwidth_estimate, true_bandwidth)

fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**31 - 1)
dtypes = st.sampled_from([(torch.float64, 1e-10), (torch.float32, 1e-4)])


def gen(seed): return torch.Generator().manual_seed(seed)


def random_graph(b, seed, dt, k=None, nonneg=True):
    "Adjacency of the cosine k-NN graph of random (nonnegative, as after a ReLU) activations."
    x = torch.rand(b, 5, generator=gen(seed), dtype=torch.float64)
    if not nonneg: x = x - 0.5
    return knn_graph(cosine_similarity(x), k).to(dt)


def knn_brute(m, k):
    "Eq. 1 by loops; ties go to the lower index."
    b = len(m)
    nb = [sorted((j for j in range(b) if j != i), key=lambda j: (-m[i, j], j))[:k] for i in range(b)]
    a = np.zeros_like(m)
    for i in range(b):
        for j in range(b):
            if i != j and (j in nb[i] or i in nb[j]): a[i, j] = m[i, j]
    return a


@st.composite
def sym_matrices(draw, ties):
    "Symmetric b x b matrices; with `ties`, entries from a few levels so that many are equal."
    b = draw(st.integers(1, 9))
    elems = st.sampled_from([-1., 0., 0.5, 1.]) if ties else st.floats(-1, 1, allow_nan=False, width=64)
    m = draw(arrays(np.float64, (b, b), elements=elems))
    return np.triu(m) + np.triu(m, 1).T


@fast
@given(m=st.one_of(sym_matrices(True), sym_matrices(False)), k=st.integers(1, 10))
def test_knn_graph_matches_brute_force(m, k):
    a = knn_graph(torch.tensor(m), k).numpy()
    np.testing.assert_array_equal(a, knn_brute(m, k))


@fast
@given(b=st.integers(2, 12), k=st.one_of(st.none(), st.integers(1, 12)), seed=seeds)
def test_knn_graph_structure(b, k, seed):
    x = torch.rand(b, 4, generator=gen(seed)) + 0.1        # strictly positive similarities
    a = knn_graph(cosine_similarity(x), k)
    assert torch.equal(a, a.T) and torch.equal(a.diagonal(), torch.zeros(b))
    deg = (a != 0).sum(1)
    kk = b - 1 if k is None else min(k, b - 1)
    assert (deg >= kk).all() and (deg <= b - 1).all()
    if k is None or k >= b - 1: assert (deg == b - 1).all()


@fast
@given(b=st.integers(1, 12), k=st.one_of(st.none(), st.integers(1, 5)), seed=seeds, dt=dtypes)
def test_laplacian_symmetric_psd_kernel(b, k, seed, dt):
    dt, rel = dt
    a = random_graph(b, seed, dt, k)
    lap = laplacian(a)
    scale = max(1., a.sum().item())
    assert torch.equal(lap, lap.T)
    assert lap.sum(1).abs().max() <= rel * scale
    assert torch.linalg.eigvalsh(lap.double()).min() >= -rel * scale


@fast
@given(b=st.integers(1, 10), c=st.integers(1, 4), m=st.integers(1, 5), seed=seeds)
def test_power_apply_matches_matrix_power(b, c, m, seed):
    lap = laplacian(random_graph(b, seed, torch.float64, 3))
    s = torch.randn(b, c, generator=gen(seed + 1), dtype=torch.float64)
    ref = torch.linalg.matrix_power(lap, m) @ s
    torch.testing.assert_close(laplacian_power_apply(lap, s, m), ref, rtol=1e-10, atol=1e-10 * ref.abs().max())


@fast
@given(b=st.integers(2, 12), c=st.integers(1, 4), k=st.one_of(st.none(), st.integers(1, 5)),
       nonneg=st.booleans(), seed=seeds, dt=dtypes)
def test_three_forms_of_sigma_agree(b, c, k, nonneg, seed, dt):
    dt, rel = dt
    a = random_graph(b, seed, dt, k, nonneg)
    lap = laplacian(a)
    s = torch.randn(b, c, generator=gen(seed + 1), dtype=torch.float64).to(dt)
    q = smoothness(lap, s)
    # relative to the size of the terms, as the sum may cancel when weights are negative
    size = (a.abs().double()[..., None] * (s.double()[:, None] - s.double()[None]) ** 2).sum((0, 1)).max().item() + 1e-30
    assert (pairwise_smoothness(a, s) - q).abs().max() <= rel * size
    assert (spectral_smoothness(lap, s) - q).abs().max() <= rel * size * 10   # eigh adds its own rounding
    for m in (2, 3):
        qm = smoothness(lap, s, m)
        ref = torch.einsum('ic,ij,jc->c', s.double(), torch.linalg.matrix_power(lap.double(), m), s.double())
        assert (qm.double() - ref).abs().max() <= rel * 10 * (ref.abs().max().item() + (torch.linalg.matrix_norm(lap.double(), 2) ** m * (s.double() ** 2).sum(0)).max().item())


@fast
@given(b=st.integers(2, 12), n_classes=st.integers(1, 5), k=st.one_of(st.none(), st.integers(1, 4)),
       m=st.integers(1, 3), seed=seeds, data=st.data())
def test_label_smoothness_permutation_invariant(b, n_classes, k, m, seed, data):
    x = torch.rand(b, 6, generator=gen(seed), dtype=torch.float64)
    y = torch.randint(0, n_classes, (b,), generator=gen(seed + 1))
    p = torch.tensor(data.draw(st.permutations(range(b))))
    def sig(x, y): return label_smoothness(laplacian(knn_graph(cosine_similarity(x), k)), y, n_classes, m)
    # ties in k-NN selection may resolve differently after permuting, so use a tie-free similarity (random floats)
    torch.testing.assert_close(sig(x[p], y[p]), sig(x, y), rtol=1e-10, atol=1e-12)
    # m = 1: the total similarity between samples of different classes (ordered pairs)
    a = knn_graph(cosine_similarity(x), k)
    torch.testing.assert_close(label_smoothness(laplacian(a), y, n_classes), (a * (y[:, None] != y[None])).sum(),
                               rtol=1e-10, atol=1e-12)


@fast
@given(b=st.integers(2, 15), top=st.integers(0, 14), seed=seeds)
def test_bandwidth_estimate_below_true_and_nondecreasing(b, top, seed):
    top = min(top, b - 1)
    lap = laplacian(random_graph(b, seed, torch.float64, 3))
    lam, f = gft(lap)
    coef = torch.randn(top + 1, generator=gen(seed + 1), dtype=torch.float64)
    coef[-1] = coef[-1].sign() * (coef[-1].abs() + 0.1)       # the top coefficient is clearly nonzero
    s = f[:, :top + 1] @ coef
    tol = 1e-8
    tb = true_bandwidth(lap, s, tol)
    assert abs(tb - lam[top]) <= 1e-9 * max(1., lam[-1].item()) or torch.isclose(lam[top], tb)
    ms = torch.arange(1, 25, dtype=torch.float64)
    bw = torch.stack([bandwidth_estimate(lap, s, int(m)) for m in ms])
    bound = (tb.clamp_min(0) ** ms + b * tol**2 * lam[-1] ** ms) ** (1 / ms)
    assert (bw <= bound * (1 + 1e-8) + 1e-12).all()
    assert (bw[1:] >= bw[:-1] * (1 - 1e-8) - 1e-12).all()


@fast
@given(b=st.integers(1, 8), d=st.integers(1, 6), zero_rows=st.lists(st.integers(0, 7), max_size=4), seed=seeds)
def test_cosine_zero_rows_finite(b, d, zero_rows, seed):
    x = torch.relu(torch.randn(b, d, generator=gen(seed), dtype=torch.float64))
    for r in zero_rows:
        if r < b: x[r] = 0
    x.requires_grad_()
    m = cosine_similarity(x)
    assert torch.isfinite(m).all()
    z = x.detach().abs().sum(1) == 0
    assert (m.detach()[z] == 0).all() and (m.detach()[:, z] == 0).all()
    assert (m.detach() <= 1 + 1e-12).all() and (m.detach() >= -1e-12).all()
    m.sum().backward()
    assert torch.isfinite(x.grad).all()


@fast
@given(b=st.integers(1, 8), d=st.integers(1, 6), scale=st.one_of(st.none(), st.floats(0.1, 10)), seed=seeds)
def test_gaussian_similarity_properties(b, d, scale, seed):
    x = torch.randn(b, d, generator=gen(seed), dtype=torch.float64)
    m = gaussian_similarity(x, scale)
    assert torch.equal(m, m.T) and torch.equal(m.diagonal(), torch.ones(b, dtype=torch.float64))
    assert ((m >= 0) & (m <= 1)).all()   # far pairs may underflow to 0


@fast
@given(b=st.integers(1, 10), seed=seeds, dt=dtypes)
def test_gft_reconstructs(b, seed, dt):
    dt, rel = dt
    lap = laplacian(random_graph(b, seed, dt, 2))
    lam, f = gft(lap)
    assert (lam[1:] >= lam[:-1]).all()
    scale = max(1., lam.abs().max().item())
    torch.testing.assert_close(f @ torch.diag(lam) @ f.T, lap, rtol=0, atol=rel * 10 * scale)
    torch.testing.assert_close(f.T @ f, torch.eye(b, dtype=dt), rtol=0, atol=rel * 10)


@fast
@given(y=st.lists(st.integers(0, 6), min_size=1, max_size=20), extra=st.integers(0, 3))
def test_label_signals_one_hot(y, extra):
    c = max(y) + 1 + extra
    s = label_signals(torch.tensor(y), c)
    assert s.shape == (len(y), c) and torch.equal(s.sum(1), torch.ones(len(y)))
    assert torch.equal(s.argmax(1), torch.tensor(y))
    if max(y) >= 1:
        with pytest.raises(ValueError, match='`y` must hold labels'): label_signals(torch.tensor(y), max(y))
