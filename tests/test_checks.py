import numpy as np
import pytest

from mplib.checks import integer


def test_integer_accepts_ints_and_numpy_ints():
    assert integer(3, "n") == 3 and isinstance(integer(np.int64(4), "n"), int)
    assert integer(0, "n", minimum=0) == 0


@pytest.mark.parametrize("bad", [0, -2, 1.5, "3", True, None])
def test_integer_names_the_argument(bad):
    with pytest.raises(ValueError, match="layers must be an integer >= 1"):
        integer(bad, "layers")
