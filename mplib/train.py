"""One small training loop for every chapter: ``fit`` and ``evaluate``.

The whole data set is moved to the device once (the sets here are small) and batches are
cut with a random permutation, which is as fast as a hand-written loop and much faster
than a DataLoader for tensors already in memory.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from . import checks, runtime

LOSSES = {
    "cross_entropy": nn.functional.cross_entropy,
    "mse": nn.functional.mse_loss,
    "bce": nn.functional.binary_cross_entropy_with_logits,
}


@dataclass
class History:
    """Per-epoch records of a :func:`fit` run."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: float = 0.0

    def last(self) -> dict:
        return {k: v[-1] for k, v in vars(self).items() if isinstance(v, list) and v}

    def __repr__(self) -> str:
        parts = [f"{len(self.epoch)} epochs in {self.seconds:.1f} s"]
        parts += [f"{k} {v:.4g}" for k, v in self.last().items() if k != "epoch"]
        return "History(" + ", ".join(parts) + ")"


def _as_tensors(data, argname, *, pair=True):
    """Accept a Split (its train part), or a tuple of tensors of equal length.

    With ``pair`` (a loss function given) the tuple must be (X, y). Without (the model's own
    ``loss``) it is whatever the model's ``loss`` takes: (X,), (X, y), ...
    """
    if hasattr(data, "X_train"):
        return data.X_train, data.y_train
    wanted = "a pair (X, y) of tensors" if pair else "a tuple of tensors, e.g. (X,) or (X, y)"
    if not isinstance(data, (tuple, list)):
        raise TypeError(f"{argname} must be a Split or {wanted}, got {type(data).__name__}")
    if (len(data) != 2) if pair else (len(data) == 0):
        raise ValueError(f"{argname} must be a Split or {wanted}, got {len(data)} items")
    if not all(torch.is_tensor(t) for t in data):
        raise TypeError(f"{argname} must hold tensors, got "
                        + ", ".join(type(t).__name__ for t in data))
    lengths = [len(t) for t in data]
    if len(set(lengths)) != 1:
        names = "X and y" if len(data) == 2 else "the tensors"
        raise ValueError(f"{argname}: {names} must have the same length, got "
                         + " and ".join(map(str, lengths)))
    if lengths[0] == 0:
        raise ValueError(f"{argname} is empty")
    return tuple(data)


def _check_model_loss(model):
    """``loss=None``: the model scores a batch itself, ``model.loss(*batch)`` (minGPT's way)."""
    if not callable(getattr(model, "loss", None)):
        raise TypeError(f"loss is None, so the model must have a loss(*batch) method; "
                        f"{type(model).__name__} has none")


def _resolve_loss(loss):
    if isinstance(loss, str):
        return LOSSES[checks.choice(loss, "loss", LOSSES)]
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {type(loss).__name__}")
    return loss


@torch.no_grad()
def evaluate(model: nn.Module, data, loss="cross_entropy", *, batch_size: int = 1024,
             device=None) -> dict:
    """Mean loss over ``data`` and, when the targets are class labels, accuracy.

    ``loss`` as in :func:`fit`; with None the model scores each batch, ``model.loss(*batch)``.
    """
    tensors = _as_tensors(data, "data", pair=loss is not None)
    batch_size = checks.integer(batch_size, "batch_size")
    if loss is None:
        _check_model_loss(model)
    else:
        loss_fn = _resolve_loss(loss)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, correct, classify, seen = 0.0, 0, False, 0
    batches, clock = math.ceil(len(tensors[0]) / batch_size), runtime.LoopClock()
    # Under a fast dev run only the first k batches are scored (runtime.capped).
    for b in range(runtime.capped(batches)):
        with clock:
            i = b * batch_size
            batch = tuple(t[i:i + batch_size].to(device) for t in tensors)
            seen += len(batch[0])
            if loss is None:
                total += float(model.loss(*batch)) * len(batch[0])
                continue
            xb, yb = batch
            out = model(xb)
            total += float(loss_fn(out, yb)) * len(xb)
            # Accuracy only makes sense for logits (N, classes) against integer labels (N,).
            classify = (torch.is_tensor(out) and out.dim() == 2 and yb.dim() == 1
                        and yb.dtype == torch.long)
            if classify:
                correct += int((out.argmax(1) == yb).sum())
    model.train(was_training)
    clock.record(batches, batch_size=batch_size, where=type(model).__name__, kind="score")
    result = {"loss": total / seen}
    if classify:
        result["accuracy"] = correct / seen
    return result


def fit(model: nn.Module, data, loss="cross_entropy", *, epochs: int = 10, lr: float = 1e-3,
        batch_size: int = 128, optimizer: str | torch.optim.Optimizer = "adam",
        weight_decay: float = 0.0, clip: float | None = None, test=None, device=None,
        progress: bool = True, live_plot: bool = False, seed: int | None = 0,
        eval_batch_size: int = 1024, scheduler=None) -> History:
    """Train ``model`` on ``data`` for ``epochs`` epochs; return a :class:`History`.

    data      a Split (its train part is used, its test part evaluated each epoch) or (X, y);
              with ``loss=None``, any tuple of tensors the model's ``loss`` takes, e.g. (X,).
    loss      a name in ``LOSSES``, any callable ``loss(model_output, y)``, or None: the model
              scores a batch itself, ``model.loss(*batch)`` (a VRNN's negative ELBO, say).
    clip      if given, rescale the gradient to norm at most ``clip`` (§4.3) before each step.
    test      an (X, y) pair to evaluate after each epoch; defaults to the Split's test part.
    eval_batch_size  batch size of that evaluation (smaller for models with large activations).
    device    defaults to ``runtime.device()``; model and data are moved there once, whole.
    scheduler a learning-rate schedule stepped after every optimizer step, given as a function
              ``scheduler(optimizer, total_steps)`` that builds it, so that a schedule over the
              whole run (OneCycleLR) knows the number of steps fit will take.

    Under a fast dev run (``MPLIB_FAST_DEV_RUN=k``, see ``runtime.fast_dev_run``) the run is
    one epoch of at most k batches, whatever ``epochs`` says, and the test set is scored on
    at most k batches: k optimizer steps in all, like PyTorch Lightning's ``fast_dev_run``.

    The model is left in training mode: call ``model.eval()`` before using it for prediction
    (dropout, batch norm and any noise the model adds in training mode stay on otherwise).
    """
    tensors = _as_tensors(data, "data", pair=loss is not None)
    if test is None and hasattr(data, "X_test"):
        test = data.test
    if test is not None:
        _as_tensors(test, "test", pair=loss is not None)
    epochs = checks.integer(epochs, "epochs")
    batch_size = checks.integer(batch_size, "batch_size")
    eval_batch_size = checks.integer(eval_batch_size, "eval_batch_size")
    lr = checks.number(lr, "lr", above=0)
    weight_decay = checks.number(weight_decay, "weight_decay", at_least=0)
    if clip is not None:
        clip = checks.number(clip, "clip", above=0)
    if seed is not None:
        seed = checks.integer(seed, "seed", minimum=0)
    if loss is None:
        _check_model_loss(model)
    else:
        loss_fn = _resolve_loss(loss)
    if scheduler is not None and not callable(scheduler):
        raise TypeError(f"scheduler must be a function (optimizer, total_steps) -> schedule, "
                        f"got {type(scheduler).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    device = torch.device(device) if device is not None else runtime.device()
    model.to(device)
    tensors = tuple(t.to(device) for t in tensors)
    if isinstance(optimizer, torch.optim.Optimizer):
        opt = optimizer
    elif checks.choice(optimizer, "optimizer", ("adam", "sgd")) == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    g = torch.Generator(device="cpu")
    if seed is not None:
        g.manual_seed(seed)

    n = len(tensors[0])
    batches = math.ceil(n / batch_size)
    planned, capped, planned_epochs = epochs * batches, bool(runtime.fast_dev_run()), epochs
    if capped:
        epochs, batches = 1, runtime.capped(batches)
    schedule = scheduler(opt, epochs * batches) if scheduler is not None else None
    batch_seconds = []

    history, plot = History(), None
    if live_plot:
        from .plot import LiveLoss
        plot = LiveLoss()
    bar = _progress(epochs, progress)
    start = time.perf_counter()
    model.train()
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=g).to(device)
        running = torch.zeros((), device=device)
        seen = 0
        for b in range(batches):
            tick = time.perf_counter()
            idx = order[b * batch_size:(b + 1) * batch_size]
            seen += len(idx)
            batch = tuple(t[idx] for t in tensors)
            if loss is None:
                batch_loss = model.loss(*batch)
            else:
                batch_loss = loss_fn(model(batch[0]), batch[1])
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            if schedule is not None:
                schedule.step()
            running += batch_loss.detach() * len(idx)
            if capped:  # time each batch: wait for it to finish (only under the cap)
                float(running)
                batch_seconds.append(time.perf_counter() - tick)
        history.epoch.append(epoch)
        history.train_loss.append(float(running) / seen)  # one sync per epoch, not per batch
        if test is not None:
            scores = evaluate(model, test, None if loss is None else loss_fn,
                              batch_size=eval_batch_size, device=device)
            if capped:  # a real run scores the test set after every epoch
                runtime.annotate_capped_loops(
                    len(runtime.capped_loops()) - 1,
                    planned=planned_epochs * math.ceil(len(_as_tensors(test, "test", pair=False)[0])
                                                       / eval_batch_size))
            history.test_loss.append(scores["loss"])
            if "accuracy" in scores:
                history.test_accuracy.append(scores["accuracy"])
            model.train()
        if bar is not None:
            bar.set_postfix({k: f"{v:.4g}" for k, v in history.last().items() if k != "epoch"})
            bar.update(1)
        if plot is not None:
            plot.update(history)
    history.seconds = time.perf_counter() - start
    if capped:
        runtime.record_capped_loop(planned, batch_seconds, batch_size=batch_size,
                                   where=type(model).__name__)
    if bar is not None:
        bar.close()
    return history


class _DisplayBar:
    """A text progress bar that redraws one display in place (in a Jupyter kernel).

    tqdm's notebook bar is a widget: a notebook saved after a run keeps only the widget's text
    fallback from when it was first shown ("0%| 0/20"), so on GitHub every training looked as
    if it never ran. This bar is plain text sent with a display id and updated in place, so the
    saved output is the last state: the finished bar with the final losses.
    """

    def __init__(self, total, desc, unit):
        from IPython.display import display
        self.total, self.desc, self.unit, self.n, self.postfix = total, desc, unit, 0, ""
        self.start = time.perf_counter()
        self.handle = display(self._text(), display_id=True)

    def _text(self):
        from tqdm import tqdm
        return tqdm.format_meter(self.n, self.total, time.perf_counter() - self.start,
                                 ncols=100, prefix=self.desc, unit=self.unit,
                                 postfix=self.postfix or None)

    def _show(self):
        from IPython.display import Pretty
        self.handle.update(Pretty(self._text()))

    def set_postfix(self, values):
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def update(self, n=1):
        self.n += n
        self._show()

    def close(self):
        self._show()


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _progress(total, enabled):
    if not enabled:
        return None
    desc = f"training on {runtime.device().type}"
    if _in_kernel():
        return _DisplayBar(total, desc, "epoch")
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="epoch")
