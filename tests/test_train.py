import pytest
import torch
from torch import nn

from mplib import data, runtime, train


def _linear():
    runtime.seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))


def test_fit_learns_digits_and_records_history():
    digits = data.load("digits")
    h = train.fit(_linear(), digits, "cross_entropy", epochs=8, lr=0.05, progress=False)
    assert h.epoch == list(range(1, 9))
    assert len(h.train_loss) == len(h.test_loss) == len(h.test_accuracy) == 8
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.test_accuracy[-1] > 0.9
    assert "epochs" in repr(h)


def test_fit_is_repeatable_under_seed():
    digits = data.load("digits")
    a = train.fit(_linear(), digits, epochs=2, progress=False)
    b = train.fit(_linear(), digits, epochs=2, progress=False)
    assert a.train_loss == b.train_loss


def test_fit_accepts_pair_and_callable_loss_for_regression():
    runtime.seed(0)
    X = torch.randn(256, 3)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1)
    h = train.fit(model, (X, y), lambda out, t: ((out - t) ** 2).mean(), epochs=60, lr=0.05,
                  progress=False)
    assert h.train_loss[-1] < 1e-3
    assert h.test_loss == []


def test_gradient_clipping_bounds_the_step():
    runtime.seed(0)
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    X, y = torch.ones(1, 1), torch.full((1, 1), 1000.0)
    train.fit(model, (X, y), "mse", epochs=1, batch_size=1, lr=1.0, optimizer="sgd", clip=0.5,
              progress=False)
    # the raw gradient is -2000; clipped to norm 0.5, one SGD step of lr 1 moves w by 0.5
    assert model.weight.item() == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs, word", [
    ({"epochs": 0}, "epochs"),
    ({"epochs": -3}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"lr": 0}, "lr"),
    ({"clip": -1.0}, "clip"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"loss": "hinge"}, "loss must be one of"),
    ({"weight_decay": -0.1}, "weight_decay"),
    ({"seed": -1}, "seed"),
])
def test_fit_bad_arguments_name_themselves(kwargs, word):
    X, y = torch.randn(8, 2), torch.randint(0, 2, (8,))
    kwargs = {"loss": "cross_entropy", **kwargs}
    with pytest.raises(ValueError, match=word):
        train.fit(nn.Linear(2, 2), (X, y), progress=False, **kwargs)


@pytest.mark.parametrize("kwargs, word", [
    ({"epochs": 2.0}, "epochs must be an integer"),
    ({"batch_size": True}, "batch_size must be an integer"),
    ({"eval_batch_size": "64"}, "eval_batch_size must be an integer"),
    ({"lr": "1e-3"}, "lr must be a number"),
    ({"clip": "1"}, "clip must be a number"),
    ({"seed": 0.5}, "seed must be an integer"),
])
def test_fit_wrong_types_raise_type_error(kwargs, word):
    X, y = torch.randn(8, 2), torch.randint(0, 2, (8,))
    with pytest.raises(TypeError, match=word):
        train.fit(nn.Linear(2, 2), (X, y), progress=False, **kwargs)
    if "batch_size" in kwargs:
        with pytest.raises(TypeError, match=word):
            train.evaluate(nn.Linear(2, 2), (X, y), batch_size=kwargs["batch_size"])


def test_fit_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="data: X and y must have the same length"):
        train.fit(nn.Linear(2, 2), (torch.randn(8, 2), torch.zeros(7, dtype=torch.long)),
                  progress=False)
    with pytest.raises(TypeError, match="data must be a Split or a pair"):
        train.fit(nn.Linear(2, 2), torch.randn(8, 2), progress=False)
    with pytest.raises(ValueError, match="data must be a Split or a pair .* got 3 items"):
        train.fit(nn.Linear(2, 2), (torch.randn(8, 2),) * 3, progress=False)
    with pytest.raises(TypeError, match="loss must be callable"):
        train.fit(nn.Linear(2, 2), (torch.randn(8, 2), torch.zeros(8, dtype=torch.long)),
                  loss=3, progress=False)


class _OwnLoss(nn.Module):
    """A model that scores a batch itself: the mean squared distance of X to a learnt point."""

    def __init__(self):
        super().__init__()
        self.centre = nn.Parameter(torch.zeros(2))

    def forward(self, X):
        return self.centre.expand_as(X)

    def loss(self, X):
        return ((X - self.centre) ** 2).sum(1).mean()


def test_fit_without_a_loss_calls_the_models_own():
    X = torch.randn(64, 2, generator=torch.Generator().manual_seed(0)) + torch.tensor([3.0, -1.0])
    model = _OwnLoss()
    h = train.fit(model, (X,), None, epochs=200, lr=0.05, batch_size=64, progress=False,
                  test=(X,), device="cpu")
    assert torch.allclose(model.centre.detach(), X.mean(0), atol=1e-2)
    # the test loss is the model's own loss on the test set (no accuracy: no labels)
    assert h.test_loss[-1] == pytest.approx(float(model.loss(X).detach()), rel=1e-5)
    assert h.test_accuracy == []


def test_fit_without_a_loss_needs_a_model_with_one():
    with pytest.raises(TypeError, match="loss is None, so the model must have a loss"):
        train.fit(nn.Linear(2, 2), (torch.randn(8, 2),), None, progress=False)


def test_fit_steps_the_scheduler_over_exactly_its_steps():
    X, y = torch.randn(50, 2), torch.randint(0, 2, (50,))
    made, used = [], []                     # used: the rate of each optimizer step

    class Recorded(torch.optim.lr_scheduler.OneCycleLR):
        def step(self, *args):
            used.append(self.optimizer.param_groups[0]["lr"])
            super().step(*args)

    def one_cycle(opt, total_steps):
        made.append(total_steps)
        return Recorded(opt, max_lr=0.1, total_steps=total_steps)

    model = nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    train.fit(model, (X, y), epochs=3, batch_size=16, optimizer=opt, scheduler=one_cycle,
              progress=False, device="cpu")
    # 3 epochs of ceil(50 / 16) = 4 batches; OneCycleLR raises if stepped past total_steps.
    # The rate rises to max_lr and the last step uses the floor max_lr / (25 * 1e4).
    used = used[1:]                         # the first call is the constructor's own
    assert made == [12] and len(used) == 12
    assert max(used) > 0.09 and used[-1] == pytest.approx(0.1 / 25 / 1e4)
    with pytest.raises(TypeError, match="scheduler must be a function"):
        train.fit(nn.Linear(2, 2), (X, y), scheduler="one-cycle", progress=False)


def test_evaluate_accuracy():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 1, 1])
    assert train.evaluate(model, (X, y))["accuracy"] == pytest.approx(2 / 3)


def test_progress_bar_in_a_kernel_saves_its_final_state(monkeypatch):
    # In a Jupyter kernel the bar is one display updated in place: what a saved notebook keeps
    # is its last update, the finished bar, not the "0/N" of a widget's text fallback.
    import sys
    import types

    from mplib import train as train_module

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj.data if hasattr(obj, "data") else str(obj))

    display_module = types.SimpleNamespace(
        display=lambda obj, display_id=None: (shown.append(obj), Handle())[1],
        Pretty=lambda text: types.SimpleNamespace(data=text))
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    monkeypatch.setattr(train_module, "_in_kernel", lambda: True)
    digits = data.load("digits")
    train.fit(_linear(), digits, epochs=3, lr=0.05)
    assert shown[0].startswith("training on") and "0/3" in shown[0]
    assert "3/3" in shown[-1] and "100%" in shown[-1] and "train_loss=" in shown[-1]
