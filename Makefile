# LSM-Bench: the two commands are `make run` and `make test`.
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
CORES      ?= 2
# The torch flavour: cpu (the default: the PyTorch CPU wheel index when it answers, else
# the plain package index) or cuda (the package index's Linux build, with its CUDA
# libraries). Choosing again reinstalls torch: `make setup TORCH=cuda`. Unset, it is the
# flavour already installed (so `make run` after `make setup TORCH=cuda` keeps CUDA), else cpu.
INSTALLED_TORCH := $(word 3,$(subst -, ,$(notdir $(firstword $(wildcard $(VENV)/.installed-torch-*)))))
TORCH      ?= $(or $(INSTALLED_TORCH),cpu)
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
ifeq ($(filter $(TORCH),cpu cuda),)
$(error TORCH must be cpu or cuda, not '$(TORCH)' (e.g. make setup TORCH=cuda))
endif
# The stamp names what is installed: the torch flavour and a hash of pyproject.toml. A
# new choice or a changed pyproject.toml is another stamp, so the install reruns
# (tests/test_setup.py checks this logic without a network).
PYPROJECT_HASH := $(shell $(PYTHON) -c "import hashlib; print(hashlib.sha256(open('pyproject.toml', 'rb').read()).hexdigest()[:12])")
STAMP      := $(VENV)/.installed-torch-$(TORCH)-$(PYPROJECT_HASH)
# Snakemake jobs call papermill and lsm: they must be on PATH without activating the venv.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONHASHSEED := 0

# Where the workflow runs (the repository root by default; tests point it elsewhere).
WORKDIR    ?= .
SNAKEMAKE  := $(BIN)/snakemake -s $(abspath Snakefile) --directory $(WORKDIR)

.PHONY: setup run recover test lint lab dag clean clean-results

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<26.2"
	@if ls $(VENV)/.installed-torch-* 2>/dev/null | grep -qv -- "-torch-$(TORCH)-"; then \
	    echo "torch flavour changed to $(TORCH): reinstalling torch"; \
	    $(BIN)/pip uninstall --quiet --yes torch; fi
ifeq ($(TORCH),cpu)
	$(BIN)/pip install --quiet --timeout 15 --retries 0 --index-url $(TORCH_CPU_INDEX) \
	    "torch==$(TORCH_VERSION)" 2>$(VENV)/torch-cpu-index.log \
	  || { echo "note: the PyTorch CPU wheel index did not answer ($(VENV)/torch-cpu-index.log);" \
	            "installing torch $(TORCH_VERSION) from the package index instead"; \
	       $(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"; }
else
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"
endif
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@# notebooks are committed stripped of outputs: nbstripout as this clone's git filter
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/nbstripout --install; fi
	@rm -f $(VENV)/.installed $(VENV)/.installed-torch-*
	touch $@

setup: $(STAMP)

run: $(STAMP) recover
	$(SNAKEMAKE) --workflow-profile workflow/profiles/default --cores $(CORES)
	@echo
	@echo "Tables:  $(abspath $(WORKDIR)/results/tables)"
	@ls $(WORKDIR)/results/tables 2>/dev/null | sed 's/^/  /'
	@echo "Figures: $(abspath $(WORKDIR)/results/figures)"
	@find $(WORKDIR)/results/figures -name '*.png' 2>/dev/null | sort | sed 's/^/  /'
	@echo "Report:  $(abspath $(WORKDIR)/results/report.html) (open it in a browser; report.md beside it)"

# After a killed run Snakemake leaves its lock and asks for --unlock: remove it unless a
# snakemake still runs in this directory; the profile's rerun-incomplete then redoes the
# jobs that were cut off (lsm/pipeline/runner.py).
recover: $(STAMP)
	@$(BIN)/lsm workflow recover --directory $(WORKDIR)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# JupyterLab on the notebooks; run from there, a notebook writes its demo outputs under
# results/demo/ of this repository (lsm.datasets.demo.demo_path).
LAB_ARGS   ?=
# JupyterLab refuses to run as root unless told (containers and CI often are root)
LAB_ROOT   := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

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
