import copy

import pytest
import yaml

from lsm.config import REPO_ROOT, load_config, validate_config
from lsm.errors import ConfigError

DEFAULT = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())


def test_default_and_paper_configs_are_valid():
    cfg = load_config(REPO_ROOT / "config" / "config.yaml")
    assert cfg["encoders"]["lsm_nmnist"]["weights"]["weight_bits"] == 16  # default filled in
    paper = load_config(REPO_ROOT / "config" / "paper.yaml")
    assert paper["datasets"]["nmnist"]["source"] == "real"
    assert paper["readouts"]["linear"]["lr"] == 0.0001


def test_unknown_key_is_named():
    cfg = copy.deepcopy(DEFAULT)
    cfg["bogus"] = 1
    with pytest.raises(ConfigError, match="bogus"):
        validate_config(cfg)


def test_nested_typo_is_named():
    cfg = copy.deepcopy(DEFAULT)
    cfg["encoders"]["lsm_nmnist"]["vth"] = 5.0
    with pytest.raises(ConfigError, match="vth"):
        validate_config(cfg)


def test_wrong_type_names_key():
    cfg = copy.deepcopy(DEFAULT)
    cfg["readouts"]["linear"]["epochs"] = "many"
    with pytest.raises(ConfigError, match="readouts/linear/epochs"):
        validate_config(cfg)


def test_dangling_reference():
    cfg = copy.deepcopy(DEFAULT)
    cfg["supervised"]["runs"]["nmnist_lsm_software"]["encoder"] = "nope"
    with pytest.raises(ConfigError, match="supervised/runs/nmnist_lsm_software/encoder"):
        validate_config(cfg)


def test_missing_real_data_dir_says_how_to_get_data(tmp_path):
    cfg = copy.deepcopy(DEFAULT)
    cfg["datasets"]["nmnist"].update(source="real", data_dir=str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"datasets/nmnist/data_dir.*does not exist.*Train"):
        validate_config(cfg)


@pytest.mark.parametrize("edit, key", [
    (lambda z: z.update(unseen=[7, 8]), "zeroshot/audio_visual/unseen"),
    (lambda z: z["runs"]["lsm_clip_software"]["encoders"].update(query="nope"),
     "zeroshot/audio_visual/runs/lsm_clip_software/encoders/query"),
    (lambda z: z["runs"]["lsm_clip_software"]["encoders"].update(query="lsm_nmnist"),
     "zeroshot/audio_visual/runs/lsm_clip_software/encoders/query"),
    (lambda z: z["runs"]["srnn_clip"]["srnn"].pop("gallery"),
     "zeroshot/audio_visual/runs/srnn_clip/srnn/gallery"),
    (lambda z: z["select"].update(direction="a2x"), "zeroshot/audio_visual/select/direction"),
    (lambda z: z["cost_ratios"][0].update(proj_dim=999), "zeroshot/audio_visual/cost_ratios/0"),
    (lambda z: z["runs"]["srnn_clip"].update(train="nope"),
     "zeroshot/audio_visual/runs/srnn_clip/train"),
])
def test_zeroshot_references_are_checked(edit, key):
    cfg = copy.deepcopy(DEFAULT)
    edit(cfg["zeroshot"]["audio_visual"])
    with pytest.raises(ConfigError, match=key):
        validate_config(cfg)


def test_zeroshot_seen_classes_must_be_at_least_two():
    cfg = copy.deepcopy(DEFAULT)
    cfg["zeroshot"]["audio_visual"]["seen"] = [1]
    with pytest.raises(ConfigError, match="zeroshot/audio_visual/seen"):
        validate_config(cfg)


def test_unseen_window_scan_expands_into_one_experiment_per_window():
    cfg = copy.deepcopy(DEFAULT)
    cfg["zeroshot"]["bmi"]["unseen_window_scan"] = 4
    del cfg["zeroshot"]["bmi_unseen_abcd"]  # the scan's first window has this name
    out = validate_config(cfg)["zeroshot"]
    scans = sorted(k for k in out if k.startswith("bmi_unseen_"))
    assert len(scans) == 23 and scans[0] == "bmi_unseen_abcd" and "bmi" not in out
    first = out["bmi_unseen_abcd"]
    assert first["unseen"] == ["a", "b", "c", "d"] and len(first["seen"]) == 22
    assert "audio_visual" in out  # other experiments untouched
