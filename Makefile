# LSM-Bench: the two commands are `make run` and `make test`.
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
CORES      ?= 2
# torch first, as a CPU wheel: a plain `torch` requirement would pull a multi-GB CUDA
# build. Elsewhere pass e.g. TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cpu'.
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
STAMP      := $(VENV)/.installed
# Snakemake jobs call papermill and lsm: they must be on PATH without activating the venv.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONHASHSEED := 0

# Where the workflow runs (the repository root by default; tests point it elsewhere).
WORKDIR    ?= .
SNAKEMAKE  := $(BIN)/snakemake -s $(abspath Snakefile) --directory $(WORKDIR)

.PHONY: setup run recover test lint dag clean clean-results

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<26.2"
	$(BIN)/pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(STAMP)

run: $(STAMP) recover
	$(SNAKEMAKE) --workflow-profile workflow/profiles/default --cores $(CORES)
	@echo
	@echo "Tables:  $(abspath $(WORKDIR)/results/tables)"
	@ls $(WORKDIR)/results/tables 2>/dev/null | sed 's/^/  /'
	@echo "Figures: $(abspath $(WORKDIR)/results/figures)"
	@find $(WORKDIR)/results/figures -name '*.png' 2>/dev/null | sort | sed 's/^/  /'

# After a killed run Snakemake leaves its lock and asks for --unlock: remove it unless a
# snakemake still runs in this directory; the profile's rerun-incomplete then redoes the
# jobs that were cut off (lsm/pipeline/runner.py).
recover: $(STAMP)
	@$(BIN)/lsm workflow recover --directory $(WORKDIR)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check lsm tests benchmarks
	$(BIN)/snakemake --lint

# The rule graph shown in the README (needs graphviz's `dot`).
dag: $(STAMP)
	$(BIN)/snakemake --rulegraph | dot -Tsvg > docs/rulegraph.svg

clean-results:
	rm -rf results/tables results/figures results/metrics results/features results/frames \
	       results/notebooks results/logs results/benchmarks results/demo .snakemake

clean: clean-results
	rm -rf $(VENV) resources
