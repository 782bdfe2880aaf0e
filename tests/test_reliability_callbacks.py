"""Reliability of `LaplacianRegularizer` and of the penalty (issue "Nothing silent").

Hooks and activations are released on every way out of a batch or a fit (fastai's cancel exceptions, any error,
KeyboardInterrupt), for either callback order; the penalty is exact at any finite scale of the activations.
A small MLP on a fixed synthetic data set keeps each fit to a fraction of a second."""
import copy
import pytest
import torch
from torch import nn
from hypothesis import given, settings, strategies as st, HealthCheck
from fastai.learner import Learner
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.core import Callback, CancelBatchException, CancelFitException, CancelEpochException
from graphreg.callbacks import LaplacianRegularizer, smoothness_profile
from graphreg.regularizer import laplacian_penalty, lowrank_label_smoothness, dense_label_smoothness
from graphreg.smoothness import label_signals


class Net(nn.Module):
    "An MLP with 3 ReLUs whose second layer raises `boom` when `fail` is set (an error inside the forward pass)."
    def __init__(self):
        super().__init__()
        self.l1, self.r1, self.l2, self.r2, self.l3, self.r3, self.out = (
            nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
        self.fail = None
    def forward(self, x):
        h = self.r1(self.l1(x))
        if self.fail is not None: raise self.fail
        return self.out(self.r3(self.l3(self.r2(self.l2(h)))))


def dls(n=96, bs=32):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 8, generator=g)[:n]; y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    ds = list(zip(x, y))
    return DataLoaders(DataLoader(ds, bs=bs, shuffle=False), DataLoader(ds[:bs], bs=bs), device='cpu')


def make(cbs=(), model=None, **kw):
    torch.manual_seed(0)
    return Learner(dls(**kw), model or Net(), loss_func=nn.CrossEntropyLoss(), cbs=list(cbs))


def n_hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def holds_nothing(reg):
    return reg._acts == [] and reg._deferred is None and reg._handles == []


class Raise(Callback):
    "Raise `exc` at `event` of the first training batch (`forward`: inside the model's forward pass)."
    def __init__(self, event, exc, order): self.event, self.exc, self.order = event, exc, order
    def before_batch(self):
        if self.event == 'before_batch': raise self.exc
        if self.event == 'forward': self.model.fail = self.exc
    def after_pred(self):
        if self.event == 'after_pred': raise self.exc
    def after_loss(self):
        if self.event == 'after_loss': raise self.exc
    def before_backward(self):
        if self.event == 'before_backward': raise self.exc
    def after_backward(self):
        if self.event == 'after_backward': raise self.exc
    def after_fit(self): self.model.fail = None


def fit_delta(learn):
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-2)
    return learn.laplacian_regularizer.epoch_delta


EVENTS = ['before_batch', 'forward', 'after_pred', 'after_loss', 'before_backward', 'after_backward']
ORDERS = [10, 90]   # before and after the regularizer (55)


@pytest.mark.parametrize('order', ORDERS)
@pytest.mark.parametrize('event', EVENTS)
@pytest.mark.parametrize('exc', [lambda: RuntimeError('boom'), KeyboardInterrupt, CancelFitException], ids=['error', 'interrupt', 'cancel_fit'])
def test_released_on_every_way_out(event, order, exc):
    exc = exc()
    model = Net(); init = copy.deepcopy(model)
    learn = make([LaplacianRegularizer(gamma=0.1), Raise(event, exc, order)], model=model)
    with learn.no_bar(), learn.no_logging():
        if isinstance(exc, CancelFitException): learn.fit(1, 1e-2)      # fastai catches it and ends the fit
        else:
            with pytest.raises(type(exc)): learn.fit(1, 1e-2)
    reg = learn.laplacian_regularizer
    assert n_hooks(learn.model) == 0 and holds_nothing(reg)
    assert 'one_batch' not in learn.__dict__                              # the batch guard is gone too
    learn.remove_cb(Raise); learn.model.fail = None
    learn.model.zero_grad(set_to_none=True)   # (fastai leaves the gradients of a batch that raised after its backward)
    # no optimizer step was taken before the exception: the next fit is a fresh one
    assert fit_delta(learn) == pytest.approx(fit_delta(make([LaplacianRegularizer(gamma=0.1)], model=init)), rel=1e-6)
    assert n_hooks(learn.model) == 0 and holds_nothing(reg)


@pytest.mark.parametrize('order', ORDERS)
@pytest.mark.parametrize('event', EVENTS)
def test_cancel_batch_keeps_training(event, order):
    "A batch cancelled at any point releases everything and the fit goes on."
    class CancelSecond(Raise):
        def before_batch(self):
            self.model.fail = CancelBatchException() if self.event == 'forward' and self.iter == 1 else None
            if self.event == 'before_batch' and self.iter == 1: raise CancelBatchException()
        def _maybe(self, ev):
            if self.event == ev and self.iter == 1: raise CancelBatchException()
        def after_pred(self): self._maybe('after_pred')
        def after_loss(self): self._maybe('after_loss')
        def before_backward(self): self._maybe('before_backward')
        def after_backward(self): self._maybe('after_backward')
    learn = make([LaplacianRegularizer(gamma=0.1), CancelSecond(event, None, order)])
    d = fit_delta(learn)
    assert d is not None and d > 0 and n_hooks(learn.model) == 0 and holds_nothing(learn.laplacian_regularizer)


def test_cancel_epoch_then_next_epoch_is_guarded():
    "After a cancelled epoch the next epoch is guarded again: a later error still releases everything."
    class Later(Callback):
        order = 90
        def before_batch(self):
            if self.epoch == 0 and self.iter == 1: raise CancelEpochException()
            if self.epoch == 1 and self.iter == 1: raise RuntimeError('later')
    learn = make([LaplacianRegularizer(), Later()])
    with learn.no_bar(), learn.no_logging(), pytest.raises(RuntimeError): learn.fit(2)
    assert n_hooks(learn.model) == 0 and holds_nothing(learn.laplacian_regularizer) and 'one_batch' not in learn.__dict__


def test_error_outside_a_batch():
    "An error between batches (the data, another callback's before_train) leaves no hook either."
    class BadTrain(Callback):
        order = 90
        def before_train(self): raise RuntimeError('before_train')
    learn = make([LaplacianRegularizer(), BadTrain()])
    with learn.no_bar(), learn.no_logging(), pytest.raises(RuntimeError): learn.fit(1)
    assert n_hooks(learn.model) == 0 and holds_nothing(learn.laplacian_regularizer)
    learn.remove_cb(BadTrain)
    assert fit_delta(learn) > 0 and 'one_batch' not in learn.__dict__


def test_batch_of_one_adds_nothing():
    "A last batch of one example has no pair: it adds no penalty and is not counted, and the fit goes on."
    full, last1 = make([LaplacianRegularizer(gamma=0.1)], n=64), make([LaplacianRegularizer(gamma=0.1)], n=65)
    assert len(last1.dls.train) == 3 and fit_delta(last1) == pytest.approx(fit_delta(full), rel=1e-6)


def test_model_returning_a_tuple():
    class TupleNet(Net):
        def forward(self, x): return (super().forward(x), x)
    learn = make([LaplacianRegularizer()], model=TupleNet())
    learn.loss_func = lambda pred, y: nn.functional.cross_entropy(pred[0], y)
    with learn.no_bar(), learn.no_logging(), pytest.raises(TypeError, match='`pred`.*tuple'): learn.fit(1)
    assert n_hooks(learn.model) == 0 and holds_nothing(learn.laplacian_regularizer)


@pytest.mark.parametrize('exc', [lambda: RuntimeError('boom'), KeyboardInterrupt], ids=['error', 'interrupt'])
def test_smoothness_profile_releases(exc):
    model = Net(); model.fail = exc = exc()
    with pytest.raises(type(exc)): smoothness_profile(model, dls().valid, n_classes=3)
    assert n_hooks(model) == 0 and model.training


# ---- numerics: the penalty does not depend on the scale of each layer's rows -----------------------------------

def _acts(seed, b=24):
    g = torch.Generator().manual_seed(seed)
    acts = [torch.relu(torch.randn(b, 6, generator=g)), torch.relu(torch.randn(b, 3, 2, 2, generator=g)),
            torch.rand(b, 5, generator=g)]
    acts[1][3] = 0   # a zero row (a dead example at that layer)
    return acts, torch.randint(0, 4, (b,), generator=g)


@pytest.mark.parametrize('scale', [1e-30, 1e-23, 1., 1e19, 1e30])
def test_scale_invariance(scale):
    acts, y = _acts(0)
    s = label_signals(y, 4)
    for x in acts:
        ref = dense_label_smoothness(x.double(), s.double())
        assert lowrank_label_smoothness(x * scale, s).item() == pytest.approx(ref.item(), rel=1e-5)
        assert dense_label_smoothness(x * scale, s).item() == pytest.approx(ref.item(), rel=1e-5)
    ref, _ = laplacian_penalty([a.double() for a in acts], y, 4)
    for kw in ({}, {'method': 'dense'}, {'defer_grad': True}, {'defer_grad': True, 'batch_layers': True}):
        xs = [(a * scale).requires_grad_() for a in acts]
        delta, _ = laplacian_penalty(xs, y, 4, **kw)
        assert delta.item() == pytest.approx(ref.item(), rel=1e-5), kw
        # the gradient scales as 1/scale: through the deferred hooks, the rescaled fallback or autograd
        (sum((x * w).sum() for x, w in zip(xs, (1., 2., 3.))) * 0 + delta).backward()
        ref_xs = [a.double().requires_grad_() for a in acts]
        laplacian_penalty(ref_xs, y, 4)[0].backward()
        for x, r in zip(xs, ref_xs):
            assert torch.allclose((x.grad * scale).double(), r.grad, rtol=1e-4, atol=1e-4 * r.grad.abs().max().item()), kw


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), exps=st.lists(st.integers(-30, 30), min_size=24, max_size=24))
def test_row_scales_property(seed, exps):
    "Any positive scale per row, from 1e-30 to 1e30, leaves the complete cosine graph, hence the penalty, unchanged."
    acts, y = _acts(seed)
    row = torch.tensor([10.**e for e in exps])
    scaled = [a * row.view(-1, *[1] * (a.ndim - 1)) for a in acts]
    ref, _ = laplacian_penalty([a.double() for a in acts], y, 4)
    for kw in ({}, {'method': 'dense'}):
        assert laplacian_penalty(scaled, y, 4, **kw)[0].item() == pytest.approx(ref.item(), rel=1e-4)


def test_non_finite_and_empty_inputs():
    acts, y = _acts(0)
    bad = [a.clone() for a in acts]; bad[2][0, 0] = float('inf')
    for kw in ({}, {'method': 'dense'}, {'defer_grad': True}):
        with pytest.raises(ValueError, match='layer 2.*non-finite'): laplacian_penalty(bad, y, 4, **kw)
    s = label_signals(y, 4)
    with pytest.raises(ValueError, match='`acts` contains non-finite'): lowrank_label_smoothness(bad[2], s)
    with pytest.raises(ValueError, match='`acts` contains non-finite'): dense_label_smoothness(bad[2], s)
    with pytest.raises(ValueError, match='`acts` is empty'): lowrank_label_smoothness(torch.zeros(24, 0), s)
