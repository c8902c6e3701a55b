"""A config means what it says, or fails before any job with the key and the fix.

Strict YAML (no empty file, no repeated key, a mapping at the top), integers that are
integers, finite numbers, no quotes or control characters in any string, a non-empty
RRAM window, zero-shot classes that both sides have; and `validate_config` returns the
complete config that runs, as a JSON-serialisable fixed point.
"""

from __future__ import annotations

import copy
import datetime
import json

import pytest
import yaml

from lsm.cli import main
from lsm.config import REPO_ROOT, load_config, load_yaml_strict, validate_config
from lsm.errors import ConfigError

CONFIGS = ["config/config.yaml", "config/paper.yaml", ".test/config/config.yaml"]
DEFAULT = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())


def _cfg() -> dict:
    return copy.deepcopy(DEFAULT)


# --- 1. the file itself --------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_config_file_is_an_error(tmp_path, text):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=r"c\.yaml is empty"):
        load_config(f)


def test_config_validate_refuses_an_empty_file(tmp_path, capsys):
    f = tmp_path / "empty.yaml"
    f.write_text("")
    assert main(["config", "validate", str(f)]) == 2
    err = capsys.readouterr()
    assert "empty.yaml is empty" in err.err and "valid" not in err.out


@pytest.mark.parametrize("text, key, line, first", [
    ("seeds: [0]\ndevice: cpu\nseeds: [1]\n", "'seeds'", 3, 1),
    ("datasets:\n  nmnist:\n    val_fraction: 0.1\n    split_seed: 0\n    val_fraction: 0.2\n",
     "'datasets/nmnist/val_fraction'", 5, 3),
    ("readouts: {linear: {lr: 0.1, lr: 0.2}}\n", "'readouts/linear/lr'", 1, 1),
    ("zeroshot:\n  x:\n    cost_ratios:\n      - {numerator: a, numerator: b}\n",
     "'zeroshot/x/cost_ratios/0/numerator'", 4, 4),
])
def test_a_repeated_key_names_the_file_line_and_key(tmp_path, text, key, line, first):
    f = tmp_path / "dup.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_yaml_strict(f)
    msg = str(exc.value)
    assert f"config key {key}" in msg and "dup.yaml" in msg
    assert f"line {line}" in msg and f"first on line {first}" in msg
    with pytest.raises(ConfigError, match="given twice"):
        load_config(f)


def test_a_merge_key_may_override_what_it_merges(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("readouts:\n  a: &a {lr: 0.1, epochs: 3}\n  b: {<<: *a, lr: 0.2}\n")
    assert load_yaml_strict(f)["readouts"]["b"] == {"lr": 0.2, "epochs": 3}


@pytest.mark.parametrize("text", ["- seeds\n- device\n", "just text\n", "42\n"])
def test_a_top_level_that_is_not_a_mapping_is_an_error(tmp_path, text):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match="not a mapping"):
        load_config(f)
    with pytest.raises(ConfigError, match="not a mapping"):
        validate_config(yaml.safe_load(text))


@pytest.mark.parametrize("name", CONFIGS)
def test_strict_loading_reads_the_shipped_configs_as_yaml_does(name):
    path = REPO_ROOT / name
    assert load_yaml_strict(path) == yaml.safe_load(path.read_text())


# --- 2. types and values -------------------------------------------------------------

@pytest.mark.parametrize("value", [64.0, 1e30, 200.5])
def test_an_integer_field_must_be_an_int(value):
    cfg = _cfg()
    cfg["encoders"]["lsm_nmnist"]["n_res"] = value
    with pytest.raises(ConfigError, match=r"'encoders/lsm_nmnist/n_res'.*whole number"):
        validate_config(cfg)


def test_integer_fields_have_sane_maxima():
    cfg = _cfg()
    cfg["encoders"]["lsm_nmnist"]["n_res"] = 10**30
    with pytest.raises(ConfigError, match=r"'encoders/lsm_nmnist/n_res'.*maximum"):
        validate_config(cfg)
    cfg = _cfg()
    cfg["encoders"]["lsm_nmnist"]["n_res"] = 100_000  # the bound itself is allowed
    validate_config(cfg)


@pytest.mark.parametrize("edit, key", [
    (lambda c: c["seeds"].append(3.0), "seeds/3"),
    (lambda c: c["zeroshot"]["audio_visual"]["runs"]["lsm_clip_software"]["proj_dims"]
     .append(32.0), "zeroshot/audio_visual/runs/lsm_clip_software/proj_dims/5"),
    (lambda c: c["supervised"]["runs"]["nmnist_rnn"]["params"].update(n_hidden=200.0),
     "supervised/runs/nmnist_rnn/params/n_hidden"),
])
def test_integer_floats_are_refused_at_any_depth(edit, key):
    cfg = _cfg()
    edit(cfg)
    with pytest.raises(ConfigError, match=key):
        validate_config(cfg)


@pytest.mark.parametrize("edit, key", [
    (lambda c: c["supervised"]["runs"]["nmnist_rnn"]["params"].update(n_hiden=20),
     "supervised/runs/nmnist_rnn/params"),
    (lambda c: c["supervised"]["runs"]["nmnist_srnn_ann"]["params"].pop("v_th"),
     "supervised/runs/nmnist_srnn_ann/params"),
    (lambda c: c["supervised"]["runs"]["nmnist_srnn_ann"]["params"].update(readout="SNN"),
     "supervised/runs/nmnist_srnn_ann/params/readout"),
    (lambda c: c["supervised"]["runs"]["nmnist_raw"].update(params={"n_res": 3}),
     "supervised/runs/nmnist_raw/params"),
])
def test_supervised_model_params_are_checked_per_kind(edit, key):
    cfg = _cfg()
    edit(cfg)
    with pytest.raises(ConfigError, match=key):
        validate_config(cfg)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize("where, key", [
    (lambda c: c["readouts"]["linear"], "lr"),
    (lambda c: c["rram"], "read_sigma"),
    (lambda c: c["encoders"]["lsm_nmnist"], "v_th"),
    (lambda c: c["supervised"]["runs"]["nmnist_srnn_ann"]["params"], "const"),
    (lambda c: c.setdefault("energy", {}).setdefault("overrides", {}), "rram.e_adc"),
])
def test_nan_and_infinity_are_refused_everywhere(value, where, key):
    cfg = _cfg()
    where(cfg)[key] = value
    with pytest.raises(ConfigError, match=r"not a finite number.*Fix: give a finite number"):
        validate_config(cfg)


def test_nan_written_in_yaml_names_the_key(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text((REPO_ROOT / "config" / "config.yaml").read_text().replace(
        "lr: 0.002\n    epochs: 40", "lr: .nan\n    epochs: 40"))
    with pytest.raises(ConfigError, match=r"'readouts/linear_sweep/lr': is NaN"):
        load_config(f)


@pytest.mark.parametrize("edit, key", [
    (lambda c: c.update(energy={"overrides": {1: 2.0}}), "energy/overrides/1"),
    (lambda c: c["readouts"]["linear"].update(lr=datetime.date(2024, 1, 1)),
     "readouts/linear/lr"),
])
def test_values_must_be_json_like(edit, key):
    cfg = _cfg()
    edit(cfg)
    with pytest.raises(ConfigError, match=key):
        validate_config(cfg)


def test_an_empty_rram_window_is_refused_in_the_config_and_the_device_model():
    from lsm.reservoir.crossbar import RRAMParams

    for lo, hi in ((80.0, 20.0), (50.0, 50.0)):
        cfg = _cfg()
        cfg["rram"].update(g_min_us=lo, g_max_us=hi)
        with pytest.raises(ConfigError, match=r"'rram/g_min_us'.*smaller than g_max_us"):
            validate_config(cfg)
        with pytest.raises(ConfigError, match="rram/g_min_us"):
            RRAMParams(g_min_us=lo, g_max_us=hi)
    with pytest.raises(ConfigError, match="rram/levels"):
        RRAMParams(levels=1)  # one level would be ignored, not applied
    with pytest.raises(ConfigError, match="rram/p_stuck_on"):
        RRAMParams(p_stuck_on=0.7, p_stuck_off=0.6)


@pytest.mark.parametrize("exp, field, values, allowed", [
    ("audio_visual", "unseen", [42], "integers 0..9"),
    ("audio_visual", "unseen", [8, 10], "integers 0..9"),  # 'oh' is audio only
    ("audio_visual", "seen", [1, 2, 3, 4, 5, 6, "z"], "integers 0..9"),
    ("bmi", "unseen", [26], "letters a..z"),
    ("bmi", "unseen", ["s", 18], "list each class once"),  # s = 18
])
def test_zeroshot_classes_must_be_classes_of_both_sides(exp, field, values, allowed):
    cfg = _cfg()
    cfg["zeroshot"][exp][field] = values
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    assert f"'zeroshot/{exp}/{field}'" in str(exc.value) and allowed in str(exc.value)


def test_a_prototypical_batch_must_hold_two_of_a_class():
    cfg = _cfg()
    cfg["readouts"]["zs_proto"]["batch_size"] = 7  # seven seen digits
    with pytest.raises(ConfigError, match=r"lsm_proto_software/train.*batch_size"):
        validate_config(cfg)


# --- 3. strings that reach shell lines -----------------------------------------------

def test_a_quote_in_a_data_path_names_the_key(tmp_path):
    data = tmp_path / "o'brien"
    (data / "Train").mkdir(parents=True)
    cfg = {"datasets": {"nmnist": {"source": "real", "data_dir": str(data)}}}
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    msg = str(exc.value)
    assert "'datasets/nmnist/data_dir'" in msg and "single quote" in msg
    assert msg.endswith("Fix: rename the folder or use a path without quotes.")


@pytest.mark.parametrize("edit, key", [
    (lambda c: c["supervised"]["runs"]["nmnist_raw"].update(model="raw input's floor"),
     "supervised/runs/nmnist_raw/model"),
    (lambda c: c.update(energy={"constants": "config/energy\n.yaml"}), "energy/constants"),
    (lambda c: c["datasets"]["bmi"].update(emnist_url="https://x/\x00.zip"),
     "datasets/bmi/emnist_url"),
    (lambda c: c["supervised"]["runs"]["nmnist_rnn"].update(variant="a\tb"),
     "supervised/runs/nmnist_rnn/variant"),
    (lambda c: c.update(energy={"overrides": {"rram.e'adc": 1.0}}),
     "energy/overrides/rram.e'adc"),
])
def test_quotes_and_control_characters_are_refused_in_every_string(edit, key):
    cfg = _cfg()
    edit(cfg)
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    assert f"'{key}'" in str(exc.value)
    assert "single quote" in str(exc.value) or "U+00" in str(exc.value)


def test_shell_metacharacters_without_quotes_are_allowed(tmp_path):
    """Spaces, $ and backticks are quoted by the workflow; only quotes are refused."""
    data = tmp_path / "with space $(x) `y`"
    data.mkdir()
    cfg = {"datasets": {"nmnist": {"source": "real", "data_dir": str(data)}}}
    assert validate_config(cfg)["datasets"]["nmnist"]["data_dir"] == str(data)


# --- 4. the complete config that runs ------------------------------------------------

@pytest.mark.parametrize("name", CONFIGS)
def test_validation_is_a_deterministic_json_fixed_point(name):
    raw = load_yaml_strict(REPO_ROOT / name)
    before = copy.deepcopy(raw)
    once = validate_config(raw)
    assert raw == before  # the input is not modified
    assert json.loads(json.dumps(once, allow_nan=False)) == once
    assert validate_config(raw) == once
    assert validate_config(once) == once
    assert validate_config(json.loads(json.dumps(once))) == once
    assert once["encoders"][next(iter(once["encoders"]))]["weights"]["weight_bits"] == 16


def test_an_expanded_window_scan_is_a_fixed_point_too():
    cfg = _cfg()
    del cfg["zeroshot"]["bmi_unseen_abcd"]
    cfg["zeroshot"]["bmi"]["unseen_window_scan"] = 4
    once = validate_config(cfg)
    assert once["zeroshot"]["bmi_unseen_abcd"]["unseen_window_scan"] is None
    assert validate_config(once) == once


def test_a_window_named_like_another_experiment_is_an_error():
    cfg = _cfg()  # it has an explicit bmi_unseen_abcd, the scan's first window
    cfg["zeroshot"]["bmi"]["unseen_window_scan"] = 4
    with pytest.raises(ConfigError, match=r"zeroshot/bmi/unseen_window_scan.*bmi_unseen_abcd"):
        validate_config(cfg)


# --- plug-in kinds -------------------------------------------------------------------

@pytest.mark.parametrize("where", ["supervised", "zeroshot"])
def test_a_plugin_kind_that_does_not_import_stops_before_any_job(where, tmp_path, capsys):
    """A plug-in kind is resolved at validation: the error names the run's kind key and
    why (here: no such module), and `lsm config validate` exits non-zero without a
    traceback."""
    cfg = _cfg()
    if where == "supervised":
        cfg["supervised"]["runs"]["nmnist_raw"]["kind"] = "not_a_pkg.models:Nope"
        key = "supervised/runs/nmnist_raw/kind"
    else:
        cfg["zeroshot"]["audio_visual"]["runs"]["srnn_clip"]["kind"] = "not_a_pkg.enc:Nope"
        key = "zeroshot/audio_visual/runs/srnn_clip/kind"
    with pytest.raises(ConfigError, match="cannot import module 'not_a_pkg") as e:
        validate_config(cfg)
    assert key in str(e.value)
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump(cfg))
    assert main(["config", "validate", str(f)]) != 0
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err


def test_a_zero_shot_kind_must_be_an_encoder_that_reads_frames():
    cfg = _cfg()
    run = cfg["zeroshot"]["audio_visual"]["runs"]["srnn_clip"]
    run["kind"] = "torch.nn:GRU"  # imports, but is not a plug-in encoder (no input)
    with pytest.raises(ConfigError, match="declares input = 'frames'"):
        validate_config(cfg)
