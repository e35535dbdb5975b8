import random

import numpy as np
import pytest
import torch

from mplib import runtime


def test_device_is_cpu_without_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.device() == torch.device("cpu")


def test_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert runtime.device().type == "mps"


def test_mode_follows_device_unless_env(monkeypatch):
    monkeypatch.delenv("MPLIB_MODE", raising=False)
    monkeypatch.setattr(runtime, "device", lambda: torch.device("cpu"))
    assert runtime.mode() == "quick"
    monkeypatch.setattr(runtime, "device", lambda: torch.device("cuda"))
    assert runtime.mode() == "full"
    monkeypatch.setenv("MPLIB_MODE", "quick")
    assert runtime.mode() == "quick"
    monkeypatch.setenv("MPLIB_MODE", " FULL ")
    assert runtime.mode() == "full"


def test_mode_rejects_unknown_value(monkeypatch):
    monkeypatch.setenv("MPLIB_MODE", "fast")
    with pytest.raises(ValueError, match="MPLIB_MODE"):
        runtime.mode()


def test_budget_picks_by_mode(monkeypatch):
    monkeypatch.setenv("MPLIB_MODE", "quick")
    assert runtime.budget(quick=3, full=30) == 3
    monkeypatch.setenv("MPLIB_MODE", "full")
    assert runtime.budget(quick=3, full=30) == 30


def test_seed_makes_python_numpy_torch_repeatable():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    runtime.seed(7)
    a = draw()
    g = runtime.seed(7)
    assert draw() == a
    assert isinstance(g, torch.Generator)


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("3", TypeError),
                                        (True, TypeError)])
def test_seed_rejects_bad_values(bad, error):
    with pytest.raises(error, match="seed n must be an integer"):
        runtime.seed(bad)


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (2.0, TypeError), (None, TypeError)])
def test_capped_rejects_bad_counts(bad, error):
    with pytest.raises(error, match="n must be an integer"):
        runtime.capped(bad)


def test_summary_prints_one_line(capsys, monkeypatch):
    monkeypatch.setenv("MPLIB_MODE", "quick")
    runtime.summary()
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "device: " in out and "mode: quick" in out and "MPLIB_MODE" in out


def test_timer_measures():
    with runtime.Timer() as t:
        sum(range(10000))
    assert t.seconds > 0


def test_prefer_one_thread_on_cpu(monkeypatch):
    monkeypatch.setattr(runtime, "device", lambda: torch.device("cpu"))
    before = torch.get_num_threads()
    try:
        assert runtime.prefer_one_thread() is None
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_setup_styles_seeds_limits_threads_and_prints_the_summary(capsys, monkeypatch):
    import matplotlib as mpl

    from mplib import plot

    monkeypatch.setenv("MPLIB_MODE", "quick")
    monkeypatch.setattr(runtime, "device", lambda: torch.device("cpu"))
    before_threads, before_rc = torch.get_num_threads(), mpl.rcParams.copy()
    try:
        mpl.rcdefaults()
        assert runtime.setup(seed=5) is None  # ends a cell without printing a generator
        after_setup = torch.rand(3)
        runtime.seed(5)
        assert torch.equal(after_setup, torch.rand(3))
        assert torch.get_num_threads() == 1
        styled = mpl.RcParams(plot.STYLE)  # validated, e.g. a tuple stored as a list
        assert all(mpl.rcParams[k] == styled[k] for k in plot.STYLE)
        assert capsys.readouterr().out == runtime.describe() + "\n"
    finally:
        torch.set_num_threads(before_threads)
        mpl.rcParams.update(before_rc)


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (0.0, TypeError), (None, TypeError)])
def test_setup_names_a_bad_seed(bad, error):
    with pytest.raises(error, match="^seed must be an integer"):
        runtime.setup(seed=bad)


def test_seed_offset_shifts_every_seed(monkeypatch):
    monkeypatch.delenv("MPLIB_SEED_OFFSET", raising=False)
    assert runtime.seed_offset() == 0 and runtime.shift(3) == 3
    runtime.seed(3)
    unshifted = torch.rand(1).item()
    monkeypatch.setenv("MPLIB_SEED_OFFSET", "2")
    assert runtime.shift(3) == 5
    runtime.seed(1)  # 1 + 2 == 3
    assert torch.rand(1).item() == unshifted
    assert "seeds shifted by 2" in runtime.describe()


@pytest.mark.parametrize("name", ["MPLIB_SEED_OFFSET", "MPLIB_FAST_DEV_RUN"])
@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_env_counts_reject_bad_values(monkeypatch, name, bad):
    monkeypatch.setenv(name, bad)
    fn = runtime.seed_offset if name == "MPLIB_SEED_OFFSET" else runtime.fast_dev_run
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 0"):
        fn()


def test_target_prints_and_asserts(monkeypatch, capsys):
    monkeypatch.delenv("MPLIB_FAST_DEV_RUN", raising=False)
    assert runtime.target("accuracy 97.0% >= 95%", True)
    assert capsys.readouterr().out == "target: accuracy 97.0% >= 95% -> met\n"
    with pytest.raises(AssertionError, match="target missed: accuracy 90.0% >= 95%"):
        runtime.target("accuracy 90.0% >= 95%", False)
    assert "-> MISSED" in capsys.readouterr().out


def test_target_not_asserted_in_fast_dev_run(monkeypatch, capsys):
    monkeypatch.setenv("MPLIB_FAST_DEV_RUN", "2")
    assert runtime.fast_dev_run() == 2
    assert runtime.target("loss 3.0 <= 0.5", False) is False
    assert "-> MISSED (not asserted: fast dev run)" in capsys.readouterr().out
    assert "fast dev run" in runtime.describe()
    with pytest.raises(ValueError, match="description must be a non-empty string"):
        runtime.target("", True)
    with pytest.raises(TypeError, match="description must be a string"):
        runtime.target(None, True)
