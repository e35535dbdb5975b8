# Every target bootstraps .venv first (python3 -m venv + requirements.txt + mplib editable).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8888
NOTEBOOK_DIR ?= notebooks
LAB_ARGS ?=
NBGRADER_PANELS := $(addprefix @jupyter/nbgrader:,menu formgrader course-list assignment-list create-assignment)
# Jupyter refuses to start as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test unit execute figures bench gpu-check sync clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# nbgrader's course panels (formgrader, course and assignment lists, Create Assignment) need
	# a course set-up and only distract a student in make lab; its Validate button stays.
	# exercises/README.md tells a lecturer how to bring them back.
	$(BIN)/jupyter labextension disable --level=sys_prefix $(NBGRADER_PANELS) > /dev/null
	@touch $(STAMP)

## make lab: JupyterLab on notebooks/ (HOST=0.0.0.0 to listen beyond this machine)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(NOTEBOOK_DIR) --ServerApp.ip=$(HOST) \
		--ServerApp.port=$(PORT) $(ROOT_FLAG) $(LAB_ARGS)

## make test: unit tests, every notebook under nbval (quick mode), pairing, browser test
# Two workers (the notebooks use one thread each); loadscope keeps a notebook's cells together.
JOBS ?= 2
test: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python -m pytest -n $(JOBS) --dist loadscope

## make unit: the fast part only (no notebook execution, no browser)
unit: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python -m pytest tests -m "not browser and not fast_dev"

## make execute: sync .py -> .ipynb and store the outputs of one clean quick-mode run
execute: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python tools/execute_notebooks.py $(NB)

## make sync: pair the .py twins and notebooks without executing
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb

figures: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python -m mplib.figures

bench: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python benchmarks/run.py

## make gpu-check [NB="notebooks/02_*.ipynb ..."]: full mode, each notebook against its budget
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py $(NB)

clean:
	rm -rf build .pytest_cache

# Student versions (nbgrader)
.PHONY: student student-check
## make student: rebuild the student versions in exercises/ with nbgrader generate_assignment
student: $(STAMP)
	$(BIN)/python tools/student_versions.py

## make student-check: fail when exercises/ is older than the chapter notebooks
student-check: $(STAMP)
	$(BIN)/python tools/student_versions.py --check

# Portability: seeds, Colab versions, Binder
.PHONY: seeds colab-compat binder
## make seeds: every notebook (or NB=...) in quick mode with MPLIB_SEED_OFFSET=0..4 ->
## benchmarks/results/seeds.md (CPU-heavy: two notebooks at a time, one thread each)
seeds: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python benchmarks/seeds.py $(NB)

## make colab-compat: a venv with Colab's versions (.ci/colab-versions.txt): unit tests,
## every widget under ipywidgets 7.7.1, notebooks 00 and 01 end to end
colab-compat:
	bash tools/colab_compat.sh

## make binder: regenerate binder/requirements.txt and runtime.txt from requirements.txt
binder:
	$(PYTHON) tools/binder_requirements.py

# Full mode without a GPU: the fast dev run and the GPU estimate
.PHONY: fast-dev gpu-estimate
## make fast-dev: every notebook in full mode, every training loop capped at 2 batches (CPU)
fast-dev: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope -m fast_dev tests/test_fast_dev_run.py

## make gpu-estimate [NB=...]: full mode's H100 time, ESTIMATED from a fast dev run here
gpu-estimate: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py --estimate $(NB)

# One likelihood table for chapters 5 and 6
.PHONY: likelihoods
## make likelihoods: every density model of chapters 5-6 on the digits split, 3 seeds, quick mode
## (about 1 min CPU) -> benchmarks/results/likelihoods.{json,md}; notebook 06c prints it
likelihoods: $(STAMP)
	MPLIB_MODE=quick $(BIN)/python benchmarks/likelihoods.py
