"""lerp / slerp (§5.3) and the latent interpolation widget, tested headlessly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mplib.interpolation import interpolate, lerp, slerp
from mplib.interpolation import class_anchors
from mplib.widgets.interpolation import InterpolationWidget

vectors = arrays(np.float64, 3, elements=st.floats(-5, 5))


@settings(max_examples=50, deadline=None)
@given(vectors, vectors)
def test_endpoints(a, b):
    for f in (lerp,) + ((slerp,) if np.linalg.norm(a) > 1e-3 and np.linalg.norm(b) > 1e-3 else ()):
        try:
            path = f(a, b, [0.0, 1.0])
        except ValueError:  # antipodal pair: no unique arc
            continue
        np.testing.assert_allclose(path[0], a, atol=1e-9)
        np.testing.assert_allclose(path[1], b, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(vectors, vectors, st.floats(0.1, 10))
def test_slerp_keeps_the_norm_of_equal_norm_vectors(a, b, r):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-3 or nb < 1e-3 or a @ b / (na * nb) < -0.999:
        return
    a, b = r * a / na, r * b / nb
    path = slerp(a, b, np.linspace(0, 1, 11))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), r, rtol=1e-9)


def test_slerp_midpoint_of_orthogonal_unit_vectors_and_lerp_shrinks():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(slerp(a, b, 0.5), [2 ** -0.5, 2 ** -0.5])
    assert np.linalg.norm(lerp(a, b, 0.5)) == pytest.approx(2 ** -0.5)   # lerp cuts the corner
    # On the circle, equal steps in t are equal steps in angle.
    path = slerp(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(np.diff(np.arctan2(path[:, 1], path[:, 0])), np.pi / 8)


def test_parallel_falls_back_to_lerp_and_bad_input():
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(slerp(a, 2 * a, 0.5), 1.5 * a)
    with pytest.raises(ValueError, match="opposite"):
        slerp(a, -a, 0.5)
    with pytest.raises(ValueError, match="non-zero"):
        slerp(a, 0 * a, 0.5)
    with pytest.raises(ValueError, match="same shape"):
        lerp(a, np.ones(3), 0.5)
    with pytest.raises(ValueError, match=r"method must be one of \('linear', 'spherical'\)"):
        interpolate(a, a, 0.5, "cubic")
    with pytest.raises(ValueError, match="t must be finite"):
        lerp(a, a, [0.5, np.nan])
    with pytest.raises(TypeError, match="eps must be a number"):
        slerp(a, a, 0.5, eps="tiny")
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        slerp(a, a, 0.5, eps=0.0)


def _toy():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    Z = rng.normal(size=(60, 2)) * 0.3 + np.array([[-2, 0], [2, 0], [0, 2]])[labels]

    def decode(z):  # an "image" that shows where z is
        z = np.asarray(z)
        img = np.zeros((len(z), 5, 5))
        img[:, 2, 2] = 1 / (1 + np.exp(-z[:, 0]))
        img[:, 0, 0] = 1 / (1 + np.exp(-z[:, 1]))
        return img

    return decode, Z, labels


def test_class_anchors_are_members_near_the_mean():
    decode, Z, labels = _toy()
    anchors = class_anchors(Z, labels)
    assert set(anchors) == {0, 1, 2}
    assert any(np.array_equal(anchors[1], z) for z in Z[labels == 1])


def test_widget_updates_and_reports_bad_settings():
    decode, Z, labels = _toy()
    w = InterpolationWidget(decode, Z, labels)
    w.controls["t"].value = 0.9
    assert w.error is None
    x, y = w.point.get_data()
    expected = lerp(w.anchors[0], w.anchors[2], 0.9)
    np.testing.assert_allclose([x[0], y[0]], expected)
    w.controls["method"].value = "spherical"
    x, y = w.point.get_data()
    np.testing.assert_allclose([x[0], y[0]], slerp(w.anchors[0], w.anchors[2], 0.9))
    w.controls["end"].value = 0
    assert isinstance(w.error, ValueError) and "different" in w.message.value
    with pytest.raises(ValueError, match="Z"):
        InterpolationWidget(decode, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="steps must be an integer >= 2, got 1"):
        InterpolationWidget(decode, Z, labels, steps=1)
    with pytest.raises(TypeError, match="steps must be an integer, got float"):
        InterpolationWidget(decode, Z, labels, steps=9.0)
    with pytest.raises(TypeError, match="decode must be a function"):
        InterpolationWidget(None, Z, labels)
