import numpy as np
import pytest

from mplib import checks


def test_integer_accepts_ints_and_numpy_ints():
    assert checks.integer(3, "n") == 3 and isinstance(checks.integer(np.int64(4), "n"), int)
    assert checks.integer(0, "n", minimum=0) == 0
    assert checks.integer(-5, "offset", minimum=None) == -5
    assert checks.integer(7, "k", minimum=0, maximum=7) == 7


@pytest.mark.parametrize("bad", [1.5, 2.0, "3", True, False, None, np.float64(2)])
def test_integer_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match=r"^layers must be an integer, got "):
        checks.integer(bad, "layers")


@pytest.mark.parametrize("bad, minimum, maximum, bound", [
    (0, 1, None, ">= 1"), (-2, 0, None, ">= 0"), (9, 0, 8, "in 0..8"), (9, None, 8, "<= 8")])
def test_integer_out_of_range_is_a_value_error(bad, minimum, maximum, bound):
    with pytest.raises(ValueError, match=f"^layers must be an integer {bound}, got {bad}$"):
        checks.integer(bad, "layers", minimum=minimum, maximum=maximum)


def test_number_accepts_ints_floats_and_numpy_reals():
    assert checks.number(3, "lr") == 3.0 and isinstance(checks.number(3, "lr"), float)
    assert checks.number(np.float32(0.5), "p", at_least=0, below=1) == 0.5
    assert checks.number(0, "noise", at_least=0) == 0.0
    assert checks.number(-1e9, "shift") == -1e9


@pytest.mark.parametrize("bad", ["0.1", None, True, np.array([0.1]), [0.1]])
def test_number_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match=r"^lr must be a number, got "):
        checks.number(bad, "lr", above=0)


@pytest.mark.parametrize("bad, bounds, text", [
    (0.0, dict(above=0), "> 0"), (-0.1, dict(at_least=0), ">= 0"),
    (1.0, dict(at_least=0, below=1), ">= 0 and < 1"), (1.5, dict(at_most=1), "<= 1"),
    (float("nan"), dict(), ""), (float("inf"), dict(above=0), "> 0")])
def test_number_out_of_range_or_not_finite_is_a_value_error(bad, bounds, text):
    with pytest.raises(ValueError, match=r"^p must be a finite number" + (" " + text if text else "")
                       + ", got "):
        checks.number(bad, "p", **bounds)


def test_choice_returns_the_value_and_lists_the_options():
    assert checks.choice("relu", "activation", ("relu", "tanh")) == "relu"
    assert checks.choice("b", "kind", {"a": 1, "b": 2}) == "b"
    with pytest.raises(ValueError, match=r"^activation must be one of \('relu', 'tanh'\), "
                                         r"got 'gelu'$"):
        checks.choice("gelu", "activation", ("relu", "tanh"))


@pytest.mark.parametrize("bad", [["relu"], np.array(["relu", "tanh"]), None, 3])
def test_choice_rejects_unhashable_and_array_values_with_a_value_error(bad):
    with pytest.raises(ValueError, match="activation must be one of"):
        checks.choice(bad, "activation", {"relu": 0, "tanh": 1})
