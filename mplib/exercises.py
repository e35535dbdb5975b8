"""Checkers for the "your turn" exercises: immediate, specific feedback in a student's words.

Every exercise cell in a chapter is followed by a check cell that calls one of

* :func:`check_function` (implement): runs the student's function and a reference on several
  :class:`Case` inputs and reports the first input where they disagree;
* :func:`check_value` (predict): compares a number, a shape or an array with the expected one;
* :func:`check_choice` (break-it): a multiple-choice answer, with an explanation for each option.

A checker prints ``✓ ...`` for a right answer. For a wrong one it prints which input failed,
what was expected and what came back, and the hint of the first known :class:`Mistake` that
matches (a transposed matrix, a missing 1/N, ...). An exception raised by the student's own code
is reported as one line ("your function raised ZeroDivisionError on input ..."), never as a
traceback from inside this module. An exercise not yet tried (its stub raises
``NotImplementedError``, or the answer is ``None`` or ``...``) prints "not tried yet" and lets
Run All go on.

Only while nbgrader executes a notebook (``NBGRADER_EXECUTION`` set, as ``nbgrader autograde``
and ``nbgrader validate`` do) does a failed or untried check raise :class:`ExerciseFailed`, so
that the test cell scores 0 points. :func:`yours_or_reference` lets later cells go on with the
reference solution when the student's is missing or wrong.
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import checks

__all__ = ["Case", "Mistake", "Feedback", "ExerciseFailed", "check_function", "check_value",
           "check_choice", "function_feedback", "value_feedback", "choice_feedback",
           "yours_or_reference", "under_grader"]

_HERE = str(Path(__file__).resolve().parent)
_UNSET = object()


class ExerciseFailed(AssertionError):
    """Raised by a checker under nbgrader when the answer is wrong or missing (0 points)."""


@dataclass(frozen=True)
class Case:
    """One input of a function exercise: ``fn(*args, **kwargs)``.

    ``expected`` defaults to the reference function's output; ``label`` describes the input in
    the feedback (default: the arguments themselves, shortened).
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = _UNSET
    label: str | None = None

    def __post_init__(self):
        if not isinstance(self.args, tuple):
            raise TypeError("args must be a tuple of positional arguments, "
                            f"got {type(self.args).__name__}")
        if not isinstance(self.kwargs, dict):
            raise TypeError(f"kwargs must be a dict, got {type(self.kwargs).__name__}")

    def describe(self) -> str:
        if self.label:
            return self.label
        parts = [_short(a) for a in self.args]
        parts += [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return "(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class Mistake:
    """A known common mistake and the hint that goes with it.

    Give exactly one of

    * ``fn``: a wrong implementation (same signature as the reference). The mistake matches when
      the student's output equals ``fn``'s on the failing case (and differs from the right one);
    * ``value``: a wrong answer to a value or choice exercise;
    * ``predicate``: ``predicate(got, expected) -> bool`` for anything else (e.g. a shape check).
    """

    name: str
    hint: str
    fn: Callable | None = None
    value: Any = _UNSET
    predicate: Callable | None = None

    def __post_init__(self):
        for attr in ("name", "hint"):
            text = getattr(self, attr)
            if not isinstance(text, str):
                raise TypeError(f"{attr} must be a string, got {type(text).__name__} {text!r}")
            if not text:
                raise ValueError(f"{attr} must be a non-empty string, got ''")
        given = [self.fn is not None, self.value is not _UNSET, self.predicate is not None]
        if sum(given) != 1:
            raise ValueError(f"Mistake {self.name!r}: give exactly one of fn, value, predicate")
        for attr in ("fn", "predicate"):
            if getattr(self, attr) is not None and not callable(getattr(self, attr)):
                raise TypeError(f"Mistake {self.name!r}: {attr} must be callable")


@dataclass
class Feedback:
    """What a checker found. ``status`` is "passed", "failed" or "not tried"."""

    exercise: str
    status: str
    text: str
    mistake: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        return self.text

    def _ipython_display_(self):
        # The checker has printed the text already; showing it twice would only confuse.
        pass


def under_grader() -> bool:
    """True while nbgrader executes the notebook (it sets ``NBGRADER_EXECUTION``)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


# --------------------------------------------------------------------------- comparing


def _to_numpy(x):
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return x


def _short(x, width: int = 60) -> str:
    x = _to_numpy(x)
    if isinstance(x, np.ndarray):
        if x.size > 12:
            return f"array of shape {x.shape}"
        text = np.array2string(x, precision=4, separator=", ", suppress_small=True)
    elif isinstance(x, float):
        text = f"{x:.6g}"
    elif isinstance(x, (list, tuple)) and len(x) > 0 and any(
            isinstance(_to_numpy(v), np.ndarray) for v in x):
        inner = ", ".join(_short(v, width) for v in x)
        text = f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    elif callable(x) and hasattr(x, "__name__"):
        text = x.__name__
    else:
        text = repr(x)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _differs(got, expected, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``expected``; otherwise a short reason in plain words."""
    got, expected = _to_numpy(got), _to_numpy(expected)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return (f"expected {len(expected)} values (a {type(expected).__name__}), "
                    f"got {_kind(got)}")
        if len(got) != len(expected):
            return f"expected {len(expected)} values, got {len(got)}"
        for k, (g, e) in enumerate(zip(got, expected)):
            why = _differs(g, e, rtol, atol)
            if why:
                return f"value {k + 1} of {len(expected)}: {why}"
        return None
    if isinstance(expected, str):
        return None if got == expected else f"expected {expected!r}, got {_short(got)}"
    if got is None:
        return "your function returned None: is a `return` missing?"
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"expected a number or an array, got {_kind(got)}"
    e = np.asarray(expected, dtype=float)
    if g.shape != e.shape:
        if g.size == e.size and g.ndim == 2 and e.ndim == 2 and g.shape == e.shape[::-1]:
            return f"shape {g.shape} instead of {e.shape}: transposed?"
        return f"shape {g.shape} instead of {e.shape}"
    if not np.all(np.isfinite(g) == np.isfinite(e)):
        return "it contains nan or inf where the expected values are finite"
    if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
        if g.size > 1:
            k = int(np.argmax(np.abs(g - e) - atol - rtol * np.abs(e)))
            where = np.unravel_index(k, e.shape)
            return (f"entry {tuple(int(i) for i in where)} is {g.flat[k]:.6g}, expected "
                    f"{e.flat[k]:.6g}")
        return f"expected {e.item():.6g}, got {g.item():.6g}"
    return None


def _kind(x) -> str:
    x = _to_numpy(x)
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return f"a {type(x).__name__} ({_short(x, 30)})"


def _student_error(exc: BaseException) -> str:
    """One line: the exception and the last line of the student's code that raised it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_HERE)]
    where = ""
    if frames:
        f = frames[-1]
        line = (f.line or "").strip()
        where = f" (at `{line}`)" if line else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}" + (f": {message}" if message else "") + where


def _copy_args(case: Case):
    """Fresh copies, so a function that changes its input in place cannot spoil the next call."""
    import copy
    return copy.deepcopy(case.args), copy.deepcopy(case.kwargs)


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _is_blank(answer) -> bool:
    return answer is None or answer is Ellipsis


# --------------------------------------------------------------------------- feedback


def _report(fb: Feedback) -> Feedback:
    print(fb.text)
    if under_grader() and not fb.passed:
        # Raised from here so that the grader's cell fails; the message is the feedback itself.
        raise ExerciseFailed(fb.text) from None
    return fb


def _raised(exercise: str, exc: Exception) -> Feedback:
    return Feedback(exercise, "failed", f"✗ {exercise}: your answer raised {_student_error(exc)}.")


def _not_tried(exercise: str, what: str) -> Feedback:
    return Feedback(exercise, "not tried", f"… {exercise}: not tried yet ({what}). "
                    "Write your answer in the cell above, run it, then run this cell again.")


def _check_mistakes(mistakes, kind: str) -> None:
    """Every mistake is a Mistake that a ``kind`` ("function" or "value") exercise can match."""
    for m in mistakes:
        if not isinstance(m, Mistake):
            raise TypeError(f"mistakes must hold exercises.Mistake, got {type(m).__name__}")
        if kind == "function" and m.fn is None and m.predicate is None:
            raise ValueError("mistakes of a function exercise need fn= or predicate=")
        if kind == "value" and m.fn is not None:
            raise ValueError("mistakes of a value exercise need value= or predicate=")


def function_feedback(student_fn, reference_fn, cases, *, mistakes=(), rtol: float = 1e-5,
                      atol: float = 1e-8, exercise: str | None = None) -> Feedback:
    """Run ``student_fn`` on every case and compare with ``reference_fn``; do not print."""
    if not callable(reference_fn):
        raise TypeError(f"reference_fn must be callable, got {type(reference_fn).__name__}")
    cases = list(cases)
    if not cases:
        raise ValueError("cases must be a non-empty list of exercises.Case")
    for c in cases:
        if not isinstance(c, Case):
            raise TypeError(f"cases must hold exercises.Case, got {type(c).__name__}")
    rtol = checks.number(rtol, "rtol", at_least=0)
    atol = checks.number(atol, "atol", at_least=0)
    _check_mistakes(mistakes, "function")
    name = exercise or getattr(reference_fn, "__name__", "exercise")
    if student_fn is None or student_fn is Ellipsis:
        return _not_tried(name, "no function given")
    if not callable(student_fn):
        return Feedback(name, "failed", f"✗ {name}: expected a function, got {_kind(student_fn)}.")
    for case in cases:
        expected = case.expected
        if expected is _UNSET:
            args, kwargs = _copy_args(case)
            expected = reference_fn(*args, **kwargs)
        args, kwargs = _copy_args(case)
        try:
            got = student_fn(*args, **kwargs)
        except NotImplementedError:
            return _not_tried(name, "the function still raises NotImplementedError")
        except Exception as exc:  # the student's code: report it in one line
            return Feedback(name, "failed", f"✗ {name}: your function raised "
                            f"{_student_error(exc)}\n  on input {case.describe()}.")
        why = _differs(got, expected, rtol, atol)
        if why is None:
            continue
        shown_e, shown_g, part = _first_different_part(got, expected, rtol, atol)
        text = (f"✗ {name}: wrong result for input {case.describe()}\n"
                f"  expected{part}: {_short(shown_e)}\n"
                f"  got{part}:      {_short(shown_g)}")
        if not (_is_number(_scalar(shown_e)) and _is_number(_scalar(shown_g))):
            text += f"\n  ({why})"
        hit = _match_function_mistake(mistakes, got, expected, case, rtol, atol)
        if hit:
            text += f"\n  Hint: {hit.hint}"
        return Feedback(name, "failed", text, hit.name if hit else None)
    return Feedback(name, "passed", f"✓ {name}: right on all {len(cases)} test inputs.")


def _scalar(x):
    """A plain number for a number or a one-element array, else ``x`` unchanged."""
    x = _to_numpy(x)
    if isinstance(x, np.ndarray) and x.size == 1 and x.ndim <= 1:
        return x.reshape(-1)[0].item()
    return x.item() if isinstance(x, np.generic) else x


def _first_different_part(got, expected, rtol, atol):
    """For several returned values, the first one that differs, and " (value k of n)"."""
    if (isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list))
            and len(got) == len(expected)):
        for k, (g, e) in enumerate(zip(got, expected)):
            if _differs(g, e, rtol, atol):
                return e, g, f" (value {k + 1} of {len(expected)})"
    return expected, got, ""


def _match_function_mistake(mistakes, got, expected, case, rtol, atol):
    for m in mistakes:
        if m.fn is not None:
            args, kwargs = _copy_args(case)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    wrong = m.fn(*args, **kwargs)
            except Exception:  # a mistake that cannot run on this input does not match it
                continue
            if _differs(wrong, expected, rtol, atol) and not _differs(got, wrong, rtol, atol):
                return m
        elif _safe_predicate(m.predicate, got, expected):
            return m
    return None


def _safe_predicate(pred, got, expected) -> bool:
    try:
        return bool(pred(got, expected))
    except Exception:
        return False


def check_function(student_fn, reference_fn, cases, *, mistakes=(), rtol: float = 1e-5,
                   atol: float = 1e-8, exercise: str | None = None) -> Feedback:
    """Implement-exercise check: print the feedback (see :func:`function_feedback`)."""
    return _report(function_feedback(student_fn, reference_fn, cases, mistakes=mistakes,
                                     rtol=rtol, atol=atol, exercise=exercise))


def _resolve_answer(answer, exercise: str):
    """``(answer, None)``, or ``(None, feedback)`` when the answer is not there yet.

    An answer may be a function of no arguments (the exercise's cell defines it): it is
    called, and its ``NotImplementedError`` means "not tried yet"."""
    if callable(answer):
        try:
            answer = answer()
        except NotImplementedError:
            return None, _not_tried(exercise, "the answer still raises NotImplementedError")
        except Exception as exc:
            return None, _raised(exercise, exc)
    if _is_blank(answer):
        return None, _not_tried(exercise, "the answer is still None")
    return answer, None


def value_feedback(answer, expected, *, mistakes=(), tol: float = 0.0, rtol: float = 0.0,
                   exercise: str = "prediction", explanation: str = "") -> Feedback:
    """Compare a predicted number, shape or array with ``expected``; do not print.

    ``answer`` may be a function of no arguments (the exercise's cell defines it): it is called,
    and its ``NotImplementedError`` means "not tried yet". ``tol``/``rtol`` are the absolute and
    relative tolerances; ``explanation`` is printed after a right answer.
    """
    tol = checks.number(tol, "tol", at_least=0)
    rtol = checks.number(rtol, "rtol", at_least=0)
    _check_mistakes(mistakes, "value")
    answer, early = _resolve_answer(answer, exercise)
    if early is not None:
        return early
    why = _differs(answer, expected, rtol, tol)
    if why is None:
        text = f"✓ {exercise}: {_short(expected)} is right."
        return Feedback(exercise, "passed", text + (f" {explanation}" if explanation else ""))
    text = f"✗ {exercise}: you answered {_short(answer)}; that is not it ({why})."
    if _is_number(expected) and _is_number(answer):
        # A prediction: say which way it is off, not the answer itself.
        side = "too high" if float(answer) > float(expected) else "too low"
        text = f"✗ {exercise}: you answered {_short(answer)}; that is {side}."
    hit = None
    for m in mistakes:
        if m.value is not _UNSET:
            if _differs(answer, m.value, rtol, tol) is None:
                hit = m
                break
        elif _safe_predicate(m.predicate, answer, expected):
            hit = m
            break
    if hit:
        text += f"\n  Hint: {hit.hint}"
    return Feedback(exercise, "failed", text, hit.name if hit else None)


def check_value(answer, expected, *, mistakes=(), tol: float = 0.0, rtol: float = 0.0,
                exercise: str = "prediction", explanation: str = "") -> Feedback:
    """Predict-exercise check: print the feedback (see :func:`value_feedback`)."""
    return _report(value_feedback(answer, expected, mistakes=mistakes, tol=tol, rtol=rtol,
                                  exercise=exercise, explanation=explanation))


def choice_feedback(answer, correct: str, explanations: dict, *,
                    exercise: str = "multiple choice") -> Feedback:
    """A multiple-choice answer (a letter such as "b"); every option has its explanation."""
    if not isinstance(explanations, dict):
        raise TypeError(f"explanations must be a dict of options, got "
                        f"{type(explanations).__name__}")
    checks.choice(correct, "correct", explanations)
    answer, early = _resolve_answer(answer, exercise)
    if early is not None:
        return early
    key = answer.strip().lower().strip("()") if isinstance(answer, str) else answer
    options = ", ".join(repr(k) for k in explanations)
    if key not in explanations:
        return Feedback(exercise, "failed",
                        f"✗ {exercise}: {answer!r} is not one of the options ({options}).")
    if key == correct:
        return Feedback(exercise, "passed", f"✓ {exercise}: ({key}) is right. {explanations[key]}")
    return Feedback(exercise, "failed",
                    f"✗ {exercise}: ({key}) is not it.\n  Hint: {explanations[key]}",
                    mistake=str(key))


def check_choice(answer, correct: str, explanations: dict, *,
                 exercise: str = "multiple choice") -> Feedback:
    """Break-it check: print the feedback (see :func:`choice_feedback`)."""
    return _report(choice_feedback(answer, correct, explanations, exercise=exercise))


def yours_or_reference(student_fn, reference_fn, cases, *, rtol: float = 1e-5,
                       atol: float = 1e-8, name: str | None = None):
    """The student's function when it passes ``cases``; the reference otherwise (and say so).

    Later cells call this instead of the student's function, so that they never depend on an
    exercise that is not solved yet.
    """
    fb = function_feedback(student_fn, reference_fn, cases, rtol=rtol, atol=atol, exercise=name)
    if fb.passed:
        print(f"(using your {fb.exercise})")
        return student_fn
    why = "not tried yet" if fb.status == "not tried" else "not right yet"
    print(f"(using the reference {fb.exercise}: yours is {why})")
    return reference_fn
