"""The workflow on a real single-node Slurm (munge, slurmctld, slurmd, slurmdbd + MariaDB),
started for these tests by workflow/scripts/slurm_local.sh and stopped afterwards.

The slurm executor polls job states with `sacct`, as on real clusters. Every snakemake call
runs under `timeout -k`, so a hang (the plugin waits forever when `sacct` cannot answer)
becomes a failure, not a stuck CI job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from workflow_helpers import BIN, REPO, env

pytestmark = pytest.mark.workflow

SCRIPT = REPO / "workflow" / "scripts" / "slurm_local.sh"
SLURM_DIR = "/tmp/lsm-slurm-tests"
PARTITION, ACCOUNT = "debug", "lsm"


def _why_not() -> str | None:
    """Why a Slurm cannot be started here (None if it can)."""
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (it installs Slurm with apt and starts its daemons)"
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        return "needs apt-get (Debian/Ubuntu) or an installed Slurm"
    return None


def _script(cmd: str) -> subprocess.CompletedProcess:
    e = {**os.environ, "LSM_SLURM_DIR": SLURM_DIR, "LSM_SLURM_PARTITION": PARTITION,
         "LSM_SLURM_ACCOUNT": ACCOUNT}
    return subprocess.run(["bash", str(SCRIPT), cmd], env=e, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def slurm():
    why = _why_not()
    if why:
        print(f"\nSlurm test skipped: {why}")  # shown with -rs too: never silent
        pytest.skip(f"Slurm cannot be started here: {why}")
    r = _script("start")
    assert r.returncode == 0, f"slurm_local.sh start failed:\n{r.stderr[-4000:]}"
    e = env()
    e["SLURM_CONF"] = f"{SLURM_DIR}/etc/slurm.conf"
    yield e
    _script("stop")


def _snakemake(workdir, e, *targets: str, limit: int = 900) -> subprocess.CompletedProcess:
    # targets first: --default-resources takes every following word as a resource
    cmd = ["timeout", "-k", "10", str(limit), str(BIN / "snakemake"), *targets,
           "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--workflow-profile", str(REPO / "workflow" / "profiles" / "slurm"),
           "--jobs", "4", "--slurm-init-seconds-before-status-checks", "2",
           "--default-resources", f"slurm_partition={PARTITION}", f"slurm_account={ACCOUNT}",
           "mem_mb=2000", "runtime=30"]
    return subprocess.run(cmd, cwd=workdir, env=e, capture_output=True, text=True,
                          timeout=limit + 60)


def _sacct(e, since: str) -> list[tuple[str, str]]:
    out = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "--starttime", since,
                          "--format=JobIdRaw,State"], env=e, capture_output=True, text=True,
                         check=True).stdout
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def _submitted(log: str) -> set[str]:
    """SLURM job ids snakemake reports having submitted."""
    import re

    return set(re.findall(r"SLURM jobid (\d+)", log))


TARGET = "results/tables/supervised.csv"


def test_workflow_runs_through_slurm_to_the_same_table(slurm, test_run, tmp_path):
    work = tmp_path / "slurm"
    shutil.copytree(REPO / ".test" / "config", work / "config")
    shutil.copytree(test_run / "resources", work / "resources")  # skip the simulators
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 5))
    r = _snakemake(work, slurm, TARGET)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-5000:]
    # the same table as the local run (bit-identical on CPU)
    assert (work / TARGET).read_text() == (test_run / TARGET).read_text()
    # the jobs really went through Slurm: sacct knows each one, COMPLETED
    ids = _submitted(log)
    assert len(ids) >= 10, log[-3000:]  # frames, encode and train_supervised jobs
    states = dict(_sacct(slurm, since))
    assert all(states.get(i) == "COMPLETED" for i in ids), {i: states.get(i) for i in ids}


def test_a_failing_job_is_reported_as_failed(slurm, test_run, tmp_path):
    work = tmp_path / "fail"
    shutil.copytree(REPO / ".test" / "config", work / "config")
    shutil.copytree(test_run / "resources", work / "resources")
    # truncate one N-MNIST recording: the frames job must fail on the compute node
    victim = next((work / "resources/datasets/nmnist/simulated/Train").rglob("*.bin"))
    victim.write_bytes(victim.read_bytes()[:7])
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 5))
    r = _snakemake(work, slurm, "results/frames/nmnist.npz", limit=300)
    log = r.stdout + r.stderr
    assert r.returncode != 0, log[-3000:]
    assert "FAILED" in log or "Error in rule frames" in log, log[-3000:]
    ids = _submitted(log)
    states = dict(_sacct(slurm, since))
    assert ids and any(states.get(i) == "FAILED" for i in ids), {i: states.get(i) for i in ids}
    assert not (work / "results/frames/nmnist.npz").exists()  # nothing half-written
    frames_log = (work / "results/logs/frames/nmnist.log").read_text()
    # the error names the bad file's folder (the manifest check catches it first)
    assert f"Train/{victim.parent.name}" in frames_log and "lsm: error:" in frames_log


def test_stop_stops_every_daemon_it_started(slurm):
    r = _script("stop")
    assert r.returncode == 0, r.stderr
    status = _script("status").stdout
    for daemon in ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd"):
        assert f"{daemon} not running" in status, status
