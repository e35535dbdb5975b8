"""benchmarks/gpu_check.py: budgets, subset file names and the CPU-based estimate."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_check  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_every_notebook_has_a_budget_and_all_fit_one_gpu_call():
    assert sorted(gpu_check.BUDGET_S) == [p.stem for p in NOTEBOOKS]
    assert all(b > 0 for b in gpu_check.BUDGET_S.values())
    assert sum(gpu_check.BUDGET_S.values()) <= gpu_check.TOTAL_BUDGET_S == 600


def test_results_file_names_say_which_notebooks():
    assert gpu_check.results_name("full_cuda", NOTEBOOKS, NOTEBOOKS) == "gpu_check_full_cuda.md"
    subset = [p for p in NOTEBOOKS if p.stem[:2] in ("02", "04")]
    assert gpu_check.results_name("full_cuda", subset, NOTEBOOKS) == "gpu_check_full_cuda_02-04.md"


def test_estimate_scales_batches_with_a_floor():
    report = {"wall_s": 20.0, "loops": [
        # 1 000 planned batches of 5 s on the CPU: 10 ms each on the GPU -> 10 s
        {"planned": 1000, "batch_seconds": [9.0, 5.0], "batch_size": 64, "where": "A"},
        # 500 tiny batches: the 2 ms floor -> 1 s
        {"planned": 500, "batch_seconds": [0.01, 0.0001], "batch_size": 64, "where": "B"},
    ]}
    e = gpu_check.estimate(report)
    assert e["batches"] == 1500
    assert e["training_s"] == pytest.approx(10.0 + 1.0)
    assert e["other_s"] == pytest.approx(20.0 - 14.0101)       # the rest at its CPU time
    assert e["cpu_training_s"] == pytest.approx(1000 * 5.0 + 500 * 0.0001)


def test_unknown_notebook_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("OUT", str(tmp_path))
    with pytest.raises(SystemExit, match="no such notebook"):
        gpu_check.main(["notebooks/99_missing.ipynb", "--estimate"])


def test_estimate_counts_cached_training_once():
    loop = {"planned": 100, "batch_seconds": [0.01, 0.01], "batch_size": 128, "where": "NADE",
            "cached": "NADE"}
    report = {"wall_s": 1.0, "loops": [loop]}
    trained = set()
    first = gpu_check.estimate(report, trained)
    second = gpu_check.estimate(report, trained)     # a later notebook loads it
    assert first["training_s"] > 0 and second["training_s"] == 0
