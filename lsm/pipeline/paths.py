"""Every results and resources path the workflow reads or writes, spelled once.

The rules (workflow/rules/*.smk) and the other lsm.pipeline modules name these patterns
instead of writing a path: ``output: features=paths.FEATURES``,
``expand(paths.WORKLOAD, encoder=...)``, or, for one file of a family,
``fill(paths.FRAMES, dataset="bmi_neural")``. A pattern's ``{wildcards}`` carry the
rules' wildcard names (dataset, encoder, run, zs, zsrun, sim, experiment), so a rule uses
it as it is. A value given to :func:`fill` may itself hold a wildcard:
``fill(TABLE_CSV, experiment="zeroshot_{zs}")`` is the pattern
``results/tables/zeroshot_{zs}.csv``.

Every log is ``log(step, name)`` and every benchmark ``benchmark(step, name)``: the step is
the folder (a rule's name, or the family it shares: both simulate rules log to
``simulate_dataset``), the name may hold wildcards (``log("frames", "{dataset}")``).

:data:`PATTERNS` is the map: every pattern here by its name (tests/test_pipeline.py
checks that each is unique and lies under results/ or resources/). Paths are relative to
the working directory. Snakemake imports this module at start-up: it imports only the
standard library's re.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------ file names in a folder
# (a downloaded or simulated dataset folder, or one the config names)

MANIFEST_NAME = "MANIFEST.json"  # written last by a dataset job: the file later jobs wait on
WILLETT_MAT_NAME = "singleLetters.mat"
EMNIST_LABELS_NAME = "emnist-letters-test-labels-idx1-ubyte"

# ------------------------------------------------------------------ resources: datasets

SIMULATED_DIR = "resources/datasets/{dataset}/simulated"
SIMULATED_MANIFEST = f"{SIMULATED_DIR}/{MANIFEST_NAME}"
SIMULATED_BMI_MAT = f"resources/datasets/bmi/simulated/{WILLETT_MAT_NAME}"
SIMULATED_BMI_EMNIST_DIR = "resources/datasets/bmi/simulated/emnist"
REAL_DIR = "resources/datasets/{dataset}/real"
REAL_MANIFEST = f"{REAL_DIR}/{MANIFEST_NAME}"
NMNIST_REAL_ROOT = "resources/datasets/nmnist/real/NMNIST"  # where the download unpacks
WILLETT_DIR = "resources/datasets/bmi/real/willett"
WILLETT_MAT = f"{WILLETT_DIR}/{WILLETT_MAT_NAME}"
EMNIST_DIR = "resources/datasets/bmi/real/emnist"
EMNIST_LABELS = f"{EMNIST_DIR}/{EMNIST_LABELS_NAME}"

# ------------------------------------------------------------------ results: frames, data QC

FRAMES = "results/frames/{dataset}.npz"  # also bmi_neural, bmi_letters, bmi_letters_mixed
FRAMES_NEURAL_COPY = "results/frames/bmi_letters_mixed.neural-copy.npz"  # temporary
QC_NOTEBOOK = "results/notebooks/datasets_qc/datasets.ipynb"
QC_CALIBRATION = "results/data_qc/calibration.json"
QC_SUMMARY = "results/data_qc/summary.csv"
QC_FIG_OVERVIEW = "results/figures/datasets/overview.png"
QC_FIG_CALIBRATION = "results/figures/datasets/nmnist_calibration.png"

# ------------------------------------------------------------------ results: encoders

ENCODE_NOTEBOOK = "results/notebooks/encode/{encoder}.ipynb"
FEATURES = "results/features/{encoder}.npz"
FEATURES_PROVENANCE = "results/features/{encoder}.provenance.json"
WORKLOAD = "results/metrics/workload/{encoder}.json"

VARIABILITY_NOTEBOOK = "results/notebooks/variability/variability.ipynb"
VARIABILITY_METRICS = "results/metrics/variability/variability.json"
VARIABILITY_ROWS = "results/metrics/variability/variability.rows.csv"
VARIABILITY_PROVENANCE = "results/metrics/variability/variability.provenance.json"
VARIABILITY_FIG = "results/figures/variability/variability.png"

# ------------------------------------------------------------------ results: supervised

SUPERVISED_NOTEBOOK = "results/notebooks/supervised/{run}.ipynb"
SUPERVISED_METRICS = "results/metrics/supervised/{run}.json"
SUPERVISED_PROVENANCE = "results/metrics/supervised/{run}.provenance.json"
SUPERVISED_CURVES = "results/metrics/supervised/{run}.curves.csv"
SUPERVISED_CONFUSION = "results/metrics/supervised/{run}.confusion.csv"
SUPERVISED_TUNING = "results/metrics/supervised/{run}.tuning.csv"
SUPERVISED_FIG_CURVES = "results/figures/supervised/{run}_learning_curves.png"
SUPERVISED_FIG_CONFUSION = "results/figures/supervised/{run}_confusion.png"
SUPERVISED_FIG_COST = "results/figures/supervised/accuracy_vs_cost_{dataset}.png"

# reservoir-size sweep (its tables: TABLE_CSV and TABLE_MD of "reservoir_size_{dataset}")
RESERVOIR_SIZE_NOTEBOOK = "results/notebooks/reservoir_size/{dataset}.ipynb"
RESERVOIR_SIZE_METRICS = "results/metrics/reservoir_size/{dataset}.json"
RESERVOIR_SIZE_PROVENANCE = "results/metrics/reservoir_size/{dataset}.provenance.json"
RESERVOIR_SIZE_FIG = "results/figures/supervised/reservoir_size_{dataset}.png"

# ------------------------------------------------------------------ results: zero-shot

ZS_NOTEBOOK = "results/notebooks/zeroshot/{zs}/{zsrun}.ipynb"
ZS_METRICS = "results/metrics/zeroshot/{zs}/{zsrun}.json"
ZS_PROVENANCE = "results/metrics/zeroshot/{zs}/{zsrun}.provenance.json"
ZS_CURVES = "results/metrics/zeroshot/{zs}/{zsrun}.curves.csv"
ZS_EMBEDDINGS = "results/metrics/zeroshot/{zs}/{zsrun}.embeddings.npz"
ZS_FIG_TSNE = "results/figures/zeroshot/{zs}/{zsrun}_tsne.png"
ZS_FIG_SIMILARITY = "results/figures/zeroshot/{zs}/{zsrun}_similarity.png"
ZS_FIG_CURVES = "results/figures/zeroshot/{zs}/{zsrun}_curves.png"
ZS_FIG_PER_CLASS = "results/figures/zeroshot/{zs}/{zsrun}_per_class.png"
ZS_FIG_EXAMPLES = "results/figures/zeroshot/{zs}/{zsrun}_examples.png"
ZS_FIG_PD = "results/figures/zeroshot/{zs}/accuracy_vs_pd_{sim}.png"
ZS_FIG_COST = "results/figures/zeroshot/{zs}/accuracy_vs_cost_{sim}.png"
ZS_FIG_COST_RATIO = "results/figures/cost/{zs}_cost_ratio_vs_epochs.png"

ZS_POWER_NOTEBOOK = "results/notebooks/zeroshot_power/{zs}.ipynb"
ZS_POWER_METRICS = "results/metrics/zeroshot_power/{zs}.json"
ZS_POWER_PROVENANCE = "results/metrics/zeroshot_power/{zs}.provenance.json"
ZS_POWER_CURVES = "results/metrics/zeroshot_power/{zs}.curves.csv"
ZS_POWER_FIG = "results/figures/zeroshot/{zs}/power_unseen_by_selection.png"

# ------------------------------------------------------------------ results: energy

GPU_ENERGY = "results/metrics/energy/gpu_measured.json"
ENERGY_FIG = "results/figures/energy/sensitivity.png"

# ------------------------------------------------------------------ results: tables, report

# every table, by its name (lsm.pipeline.tables.table_definitions, and energy, timing,
# tuning, reservoir_size_<dataset>)
TABLE_CSV = "results/tables/{experiment}.csv"
TABLE_MD = "results/tables/{experiment}.md"
REPORT = "results/report.md"
REPORT_HTML = "results/report.html"
NOTEBOOKS_HTML = "results/notebooks_html"  # the executed notebooks as HTML pages
CONFIG_JSON = "results/config.json"  # the validated config the run used

# ------------------------------------------------------------------ results: logs, benchmarks

LOGS_DIR = "results/logs"
LOG = LOGS_DIR + "/{step}/{name}.log"
BENCHMARK = "results/benchmarks/{step}/{name}.tsv"

# the map: every pattern above by its name (the file names in a folder are no paths)
PATTERNS: dict[str, str] = {
    k: v for k, v in dict(globals()).items()
    if k.isupper() and not k.endswith("_NAME") and isinstance(v, str)
}


def fill(pattern: str, **wildcards: object) -> str:
    """`pattern` with its wildcards filled (KeyError for one not given)."""
    return pattern.format(**wildcards)


def matches(pattern: str, path: str) -> bool:
    """Whether `path` is `pattern` with each wildcard filled by a name (no '/')."""
    parts = re.split(r"\{\w+\}", pattern)
    return re.fullmatch("[^/]+".join(map(re.escape, parts)), path) is not None


def both_tables(experiment: str) -> list[str]:
    """The CSV and Markdown files of table `experiment` (the pair `lsm results` writes)."""
    return [fill(TABLE_CSV, experiment=experiment), fill(TABLE_MD, experiment=experiment)]


def log(step: str, name: str) -> str:
    """The log file of a job: results/logs/<step>/<name>.log (`name` may hold wildcards)."""
    return fill(LOG, step=step, name=name)


def benchmark(step: str, name: str) -> str:
    """The benchmark file of a job: results/benchmarks/<step>/<name>.tsv."""
    return fill(BENCHMARK, step=step, name=name)
