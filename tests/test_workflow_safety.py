"""Config values never reach a shell unquoted, and a config file means what it says.

The injection test runs a real (tiny) workflow job on a data folder whose name holds a
command substitution and a space, then checks that nothing was executed.
"""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
import yaml
from workflow_helpers import REPO, snakemake

from lsm.config import load_config
from lsm.datasets.events import make_events
from lsm.datasets.readers import nmnist

pytestmark = pytest.mark.workflow


def _real_nmnist_folder(root):
    """A tiny N-MNIST copy in the real layout: Train/ and Test/, two digits."""
    rng = np.random.default_rng(0)
    for split, n in (("Train", 4), ("Test", 2)):
        for digit in (0, 1):
            for i in range(n):
                t = np.sort(rng.integers(0, 300_000, 200))
                ev = make_events(rng.integers(0, 34, 200), rng.integers(0, 34, 200), t,
                                 rng.integers(0, 2, 200))
                nmnist.write_bin(root / split / str(digit) / f"{i:05d}.bin", ev)


def _frames_only_config(data_dir) -> dict:
    return {"seeds": [0],
            "datasets": {"nmnist": {"source": "real", "data_dir": str(data_dir),
                                    "val_fraction": 0.25}}}


@pytest.mark.parametrize("name", ["inj$(touch PWNED)", "with space/inj`touch PWNED`;touch PWNED",
                                  "-starts-with-a-dash"])
def test_a_command_in_a_data_path_is_never_executed(tmp_path, name):
    """Shell syntax, spaces, an option-like relative path."""
    work = tmp_path / "work"
    relative = name.startswith("-")
    data = (work if relative else tmp_path) / name
    _real_nmnist_folder(data)
    (work / "config").mkdir(parents=True, exist_ok=True)
    cfg = _frames_only_config(name if relative else data)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", "1",
                  "results/frames/nmnist.npz")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    with np.load(work / "results" / "frames" / "nmnist.npz") as z:
        assert z["x_test"].shape[0] == 4 and set(z["y_train"].tolist()) == {0, 1}
    pwned = [*tmp_path.rglob("PWNED"), *REPO.glob("PWNED")]
    assert not pwned, f"a command in the config ran: {pwned}"


@pytest.mark.parametrize("name,why", [("o'brien", "quote"), ("n{x}mnist", "brace")])
def test_a_quote_or_brace_in_a_path_is_a_validation_error_naming_the_key(tmp_path, name, why):
    """A quote would end a quoted shell word; Snakemake reads braces as wildcards."""
    work = tmp_path / "work"
    data = tmp_path / name
    data.mkdir()
    (work / "config").mkdir(parents=True)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(_frames_only_config(data)))
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work), "-n")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "datasets/nmnist/data_dir" in out and why in out
    assert "Traceback" not in out


def _effective_config(tmp_path, *args: str) -> dict:
    """The config a workflow run uses, as its effective_config job records it."""
    work = tmp_path / "work"
    (work / "config").mkdir(parents=True, exist_ok=True)
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", "1",
                  "results/config.json", *args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads((work / "results" / "config.json").read_text())


@pytest.mark.parametrize("cfg", ["config/config.yaml", "config/paper.yaml"])
def test_the_config_that_runs_is_the_config_that_validates(tmp_path, cfg):
    """`--configfile FILE` replaces the default config instead of merging into it."""
    if cfg == "config/config.yaml":  # the default: found in the working directory
        (tmp_path / "work" / "config").mkdir(parents=True)
        (tmp_path / "work" / cfg).write_text((REPO / cfg).read_text())
        ran = _effective_config(tmp_path)
    else:
        ran = _effective_config(tmp_path, "--configfile", str(REPO / cfg))
    assert ran == json.loads(json.dumps(load_config(REPO / cfg)))


def test_paper_config_plans_only_its_own_runs():
    r = snakemake("-n", "--forceall", "--configfile", "config/paper.yaml")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout + r.stderr
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for zs, e in default["zeroshot"].items():
        for run in e["runs"]:
            planned = f"results/metrics/zeroshot/{zs}/{run}.json" in out
            wanted = zs in paper["zeroshot"] and run in paper["zeroshot"][zs]["runs"]
            assert planned == wanted, (zs, run)
    assert "bmi_unseen_abcd" not in out  # an experiment only the default defines
    for run in default["supervised"]["runs"]:
        planned = f"results/metrics/supervised/{run}.json" in out
        assert planned == (run in paper["supervised"]["runs"]), run
    for enc in default["encoders"]:
        assert (f"results/features/{enc}.npz" in out) == (enc in paper["encoders"]), enc


def test_paper_config_runs_its_own_bmi_split_not_the_defaults():
    """The default caps BMI at 240/40 images per letter; the paper config (and the
    schema's defaults it relies on) at 300/100. The planned job must get the latter."""
    r = snakemake("results/frames/bmi_neural.npz", "-n", "-p", "--forceall",
                  "--configfile", "config/paper.yaml")  # targets first: --configfile is nargs+
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    cmd = next(line for line in (r.stdout + r.stderr).splitlines()
               if "lsm data bmi-frames" in line)
    split = json.loads(shlex.split(cmd.split("--split", 1)[1])[0])
    assert split["max_train_images"] == 300 and split["max_test_images"] == 100
    assert split["val_fraction"] == 0.1


def test_make_run_recovers_after_a_kill(tmp_path):
    """A killed run leaves Snakemake's lock; `make run` (its recover step) unlocks when no
    other snakemake runs, and the profile's rerun-incomplete redoes the cut-off job."""
    import os
    import shutil
    import signal
    import subprocess
    import time

    from workflow_helpers import BIN, env

    work = tmp_path / "work"
    shutil.copytree(REPO / ".test" / "config", work / "config")
    target = "results/frames/nmnist.npz"
    proc = subprocess.Popen([str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"),
                             "--directory", str(work), "--cores", "1", target],
                            cwd=REPO, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    log = work / "results" / "logs" / "simulate_dataset" / "nmnist.log"
    deadline = time.monotonic() + 120
    while not log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the job ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # as a closed laptop lid or an OOM killer would
    proc.wait()
    stuck = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", "1",
                      target)
    assert stuck.returncode != 0 and "--unlock" in stuck.stdout + stuck.stderr

    r = subprocess.run(["make", "-s", "-o", ".venv/.installed", "recover", f"WORKDIR={work}"],
                       cwd=REPO, env=env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrupted" in r.stdout
    again = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work),
                      "--workflow-profile", str(REPO / "workflow/profiles/default"), target)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "simulate_dataset" in again.stdout + again.stderr  # the cut-off job is redone
    assert (work / target).is_file()


def test_recover_leaves_a_live_run_alone(tmp_path):
    """A lock held by a snakemake still running in that directory is not removed."""
    import subprocess
    import sys

    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    live = subprocess.Popen(["bash", "-c", "exec -a snakemake sleep 60"], cwd=tmp_path)
    try:
        r = subprocess.run([sys.executable, "-m", "lsm", "workflow", "recover", "--directory",
                            str(tmp_path)], capture_output=True, text=True, timeout=60)
    finally:
        live.kill()
        live.wait()
    assert r.returncode == 2 and "still running" in r.stderr and str(live.pid) in r.stderr
    assert (locks / "0.input.lock").exists()
    r = subprocess.run([sys.executable, "-m", "lsm", "workflow", "recover", "--directory",
                        str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "interrupted" in r.stdout and not any(locks.iterdir())


def test_notebook_parameters_keep_json_numbers_that_yaml_1_1_reads_as_text():
    """papermill's -y goes through PyYAML (YAML 1.1): JSON's 1e-05 would become "1e-05"."""
    from lsm.pipeline.runner import notebook_params

    p = notebook_params([("input_path", "x.npz")], json.dumps({"train": {"lr": 1e-05}}))
    assert p == {"input_path": "x.npz", "train": {"lr": 1e-05}}
    assert isinstance(p["train"]["lr"], float)
    assert notebook_params([], "a: 1") == {"a": 1}  # YAML still accepted by hand


def test_a_stage_notebook_reports_bad_input_as_one_line(tmp_path):
    """`lsm notebook` turns a stage's DataFormatError into `lsm: error:` (no cell
    traceback) and refuses a parameter the notebook does not declare."""
    import subprocess
    import sys

    bad = tmp_path / "features.npz"
    bad.write_bytes(b"")  # a 0-byte cache
    nb = str(REPO / "notebooks" / "02_supervised_readout.ipynb")
    cmd = [sys.executable, "-m", "lsm", "notebook", nb, str(tmp_path / "out.ipynb")]
    r = subprocess.run([*cmd, "-r", "input_path", str(bad)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("lsm: error:") and "features.npz" in last
    assert "Traceback" not in r.stderr
    r = subprocess.run([*cmd, "-r", "inptu_path", str(bad)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 2 and "inptu_path" in r.stderr and "Traceback" not in r.stderr
