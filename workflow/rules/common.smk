# Shared set-up: config validation (before any job starts), path and shell helpers, and
# thin wrappers that pass the validated config to the domain logic in lsm.pipeline
# (pure functions of the config, tested in tests/test_pipeline.py). Every results and
# resources path a rule names is a pattern of lsm.pipeline.paths (`paths.FEATURES`,
# `paths.fill(paths.FRAMES, dataset=...)`, `paths.log(step, name)`): no rule spells one.
import functools
import json
import shlex
from pathlib import Path

from lsm.config import load_yaml_strict, select_direction, simulation_params, validate_config
from lsm.pipeline import data, paths, runs, tables, targets
from lsm.pipeline.protocol import halving_setting

# Notebooks live at the repository root, not under the working directory, so that
# `--directory .test` still finds them (G5).
REPO = Path(workflow.current_basedir).parents[1]

# The config is validated before any job, by the same function as `lsm config validate`:
# the schema with its defaults, strict YAML (a duplicate key is an error, not "last one
# wins"), no quote or control character in any value, cross references, existing data
# folders; zero-shot window scans are expanded. The jobs see exactly this dict, and
# rule effective_config records it (paths.CONFIG_JSON).
for _f in [*workflow.configfiles, *workflow.overwrite_configfiles]:
    load_yaml_strict(_f)
_validated = validate_config(dict(config))
config.clear()
config.update(_validated)


# ------------------------------------------------------------------ path and shell helpers


def nb_path(name):
    """Absolute path of a notebook in notebooks/ (G5)."""
    return str(REPO / "notebooks" / name)


def parent(path):
    return str(Path(path).parent)


def as_json(obj):
    """Compact JSON for papermill -y or CLI --params: JSON is YAML and never wraps (G6).
    Shell lines quote it with `:q`, like every other value that reaches a shell."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def shell_args(*args):
    """Pre-quoted shell arguments, for a params value used unquoted: an empty string
    stays an argument (`:q` leaves an empty value out)."""
    return shlex.join(str(a) for a in args)


# ------------------------------------------------------------------ lsm.pipeline wrappers


def with_config(fn):
    """`fn` of lsm.pipeline with the validated config as its first argument (the name,
    docstring and `config` lookup of a `def f(x): return fn(config, x)`)."""

    @functools.wraps(fn)
    def bound(*args, **kwargs):
        return fn(config, *args, **kwargs)

    return bound


def dataset_cfg(name):
    return config["datasets"][name]


def sim_params(name):
    """The simulate block of a dataset, with paper sizes applied when paper_size is set."""
    return simulation_params(config, name)


# datasets (rules/data.smk)
dataset_root = with_config(data.dataset_root)
dataset_input = with_config(data.dataset_input)
fetch_params = with_config(data.fetch_params)
bmi_paths = with_config(data.bmi_paths)
bmi_emnist_dir = with_config(data.bmi_emnist_dir)
bmi_generator_version = data.bmi_generator_version
qc_inputs = with_config(data.qc_inputs)
qc_params = with_config(data.qc_params)

# supervised runs (rules/supervised.smk, rules/encode.smk)
run_cfg = with_config(runs.supervised_run)
dataset_of_run = with_config(runs.dataset_of_run)
supervised_priority = with_config(runs.supervised_priority)
run_input = with_config(runs.run_input)
run_workload = with_config(runs.run_workload)
encoder_frames = with_config(runs.encoder_frames)
variability_encoder = with_config(runs.variability_encoder)
tuning_budget = with_config(runs.tuning_budget)

# zero-shot runs (rules/zeroshot.smk)
zs_cfg = with_config(runs.zs_experiment)
zs_run = with_config(runs.zs_run)
zs_threads = with_config(runs.zs_threads)
zs_inputs = with_config(runs.zs_inputs)
zs_frames = with_config(runs.zs_frames)
zs_pairing = with_config(runs.zs_pairing)
zs_run_params = with_config(runs.zs_run_params)
zs_power = with_config(runs.zs_power)
zs_power_runs = with_config(runs.zs_power_runs)
zs_class_names = with_config(runs.zs_class_names)

# tables, energy (rules/tables.smk, rules/energy.smk) and targets (Snakefile: rule all)
TABLES = tables.table_definitions(config)  # name -> (title, caption)
TABLE_METRICS = tables.table_metrics(config)  # name -> the metrics kept (absent: all)
energy_systems = with_config(tables.energy_systems)
energy_encoders = with_config(tables.energy_encoders)
table_inputs = with_config(targets.table_inputs)
timing_inputs = with_config(targets.timing_inputs)
report_tables = with_config(targets.report_tables)
report_figures = with_config(targets.report_figures)
html_tables = with_config(targets.html_tables)
executed_notebooks = with_config(targets.executed_notebooks)
final_targets = with_config(targets.final_targets)


def table_ratios(experiment):
    """The cost-ratio rows a table adds, as JSON ("[]" when the table has none)."""
    return as_json(tables.table_ratios(config, experiment))


def energy_constants():
    """The constants file: relative to the working directory, else to the repository."""
    return tables.energy_constants(config, REPO)
