"""The dataset descriptors (lsm.datasets.catalog) agree with the schema, name code that
exists, and are the only place a dataset is spelled: a new descriptor reaches the command
line and the config checks with no other edit."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest
import yaml

from lsm import cli, config
from lsm.datasets import catalog
from lsm.datasets.catalog import DATASETS, DatasetSpec, FramesSpec, resolve

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def _defn(name: str) -> dict:
    return SCHEMA["$defs"][name]


def test_every_schema_dataset_has_a_descriptor_and_no_more():
    assert set(SCHEMA["properties"]["datasets"]["properties"]) == set(DATASETS)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_simulator_bounds_match_the_schema(name):
    sim = _defn(name)["properties"]["simulate"]["properties"]
    for key, (lo, hi) in DATASETS[name].sim_sizes.items():
        assert (sim[key]["minimum"], sim[key]["maximum"]) == (lo, hi), key
    assert DATASETS[name].sim_block in sim
    assert set(DATASETS[name].paper_sizes) <= set(DATASETS[name].sim_sizes)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_data_hints_name_real_config_keys(name):
    props = _defn(name)["properties"]
    assert DATASETS[name].data_help, "a real dataset needs a hint on where to get it"
    assert set(DATASETS[name].data_help) <= set(props)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_named_code_exists_and_has_the_called_signature(name):
    spec = DATASETS[name]
    sim = inspect.signature(resolve(spec.simulator))
    assert list(sim.parameters)[:5] == ["out_dir", *spec.sim_sizes, "seed", "params"]
    assert "workers" in sim.parameters
    assert dataclasses.is_dataclass(resolve(spec.sim_params))
    if spec.frames_fn:
        assert dataclasses.is_dataclass(resolve(spec.prep))
        assert len(inspect.signature(resolve(spec.frames_fn)).parameters) >= 4


def test_readers_agree_with_the_sensor_size():
    from lsm.datasets.readers import nmnist

    assert DATASETS["nmnist"].sensor_size == tuple(nmnist.SENSOR_SIZE)


def test_config_tables_are_derived_from_the_descriptors():
    assert config.FRAME_CLASSES["ntidigits"] == range(11)
    assert config.LETTER_FRAMES == {"bmi_neural", "bmi_letters", "bmi_letters_mixed"}
    assert config.SAME_ITEMS_AS == {"bmi_letters_mixed": "bmi_letters"}
    assert config.frame_names({"bmi": {"source": "real"}, "nmnist": {}}) == [
        "bmi_neural", "bmi_letters", "nmnist"]


def test_a_new_descriptor_reaches_the_command_line_and_config_with_no_other_edit(
        monkeypatch):
    new = dataclasses.replace(DATASETS["nmnist"], name="dvsgesture",
                              frames=(FramesSpec("dvsgesture", 11, "gestures 0..10"),))
    monkeypatch.setitem(catalog.DATASETS, "dvsgesture", new)
    args = cli.build_parser().parse_args(
        ["data", "frames", "dvsgesture", "--root", "r", "--prep", "{}", "--val-fraction",
         "0.2", "--split-seed", "0", "--out", "o.npz"])
    assert args.kind == "dvsgesture"
    assert config.frame_names({"dvsgesture": {}}) == ["dvsgesture"]
    assert isinstance(new, DatasetSpec)


def test_descriptors_agree_with_their_readers():
    """The catalog stays stdlib-only (config validation imports no numpy or h5py), so it
    cannot import the readers' constants: this keeps the two copies one value."""
    from lsm.datasets.readers import nmnist, ntidigits

    assert DATASETS["nmnist"].sensor_size == nmnist.SENSOR_SIZE
    assert DATASETS["ntidigits"].sensor_size == ntidigits.SENSOR_SIZE
    assert DATASETS["ntidigits"].input_file == ntidigits.FILENAME


def test_a_tonic_cache_is_located_inside_data_dir(tmp_path):
    """tonic keeps N-MNIST in <save_to>/NMNIST/ and N-TIDIGITS in <save_to>/NTIDIGITS18/:
    a data_dir that is such a save_to is read there; a plain folder as it is."""
    (tmp_path / "NTIDIGITS18").mkdir()
    (tmp_path / "NTIDIGITS18" / "n-tidigits.hdf5").write_bytes(b"")
    (tmp_path / "NMNIST" / "Train").mkdir(parents=True)
    assert DATASETS["ntidigits"].locate(tmp_path) == tmp_path / "NTIDIGITS18"
    assert DATASETS["nmnist"].locate(tmp_path) == tmp_path / "NMNIST"
    (tmp_path / "Train").mkdir()
    assert DATASETS["nmnist"].locate(tmp_path) == tmp_path  # the folder itself wins
    assert DATASETS["bmi"].locate(tmp_path) == tmp_path  # no tonic folder
