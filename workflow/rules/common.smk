# Shared set-up: config validation (before any job starts), path helpers, targets.
import json
from pathlib import Path

from snakemake.utils import validate

from lsm.config import check_references

# Notebooks live at the repository root, not under the working directory, so that
# `--directory .test` still finds them (G5).
REPO = Path(workflow.current_basedir).parents[1]

validate(config, schema="../schemas/config.schema.yaml")
check_references(config, base=Path.cwd())


def nb_path(name):
    """Absolute path of a notebook in notebooks/ (G5)."""
    return str(REPO / "notebooks" / name)


def as_json(obj):
    """Compact JSON for papermill -y or CLI --params: JSON is YAML and never wraps (G6)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    if "'" in text:
        raise ValueError(f"parameters must not contain single quotes: {text}")
    return text


def dataset_cfg(name):
    return config["datasets"][name]


def dataset_root(name):
    """The folder a dataset's files are read from."""
    ds = dataset_cfg(name)
    if ds["source"] == "simulated":
        return f"resources/datasets/{name}/simulated"
    if ds.get("data_dir"):
        return ds["data_dir"]
    return f"resources/datasets/{name}/real/NMNIST"


def dataset_input(name):
    """Input of the frames step (a manifest written by a job, or the user folder)."""
    ds = dataset_cfg(name)
    if ds["source"] == "simulated":
        return f"resources/datasets/{name}/simulated/MANIFEST.json"
    if ds.get("data_dir"):
        return ds["data_dir"]
    return f"resources/datasets/{name}/real/MANIFEST.json"


def run_cfg(run):
    return config["supervised"]["runs"][run]


def encoder_of_run(run):
    return run_cfg(run)["encoder"]


def dataset_of_run(run):
    return config["encoders"][encoder_of_run(run)]["dataset"]


def final_targets():
    runs = list(config["supervised"]["runs"])
    targets = []
    if runs:
        targets += ["results/tables/supervised.csv", "results/tables/supervised.md"]
        targets += expand(
            "results/figures/supervised/{run}_{kind}.png",
            run=runs,
            kind=["learning_curves", "confusion"],
        )
    return targets
