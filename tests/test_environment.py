"""environment.yml (conda users) must name the same packages as pyproject.toml."""

import re
import tomllib

import yaml

from lsm.config import REPO_ROOT

# conda names that differ from the PyPI names
CONDA_TO_PYPI = {"pytorch-cpu": "torch", "matplotlib-base": "matplotlib",
                 "snakemake-minimal": "snakemake"}


def _name(req: str) -> str:
    req = req.split("::")[-1]
    return re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_matches_pyproject():
    py = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in py["dependencies"] + py["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    have = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            have |= {_name(d) for d in dep["pip"] if not d.startswith("-")}
        else:
            n = _name(dep)
            have.add(CONDA_TO_PYPI.get(n, n))
    have -= {"python", "pip"}
    assert wanted == have, (f"only in pyproject: {wanted - have}; "
                            f"only in environment.yml: {have - wanted}")


def _conda_names(path) -> tuple[set[str], list[str]]:
    env = yaml.safe_load(path.read_text())
    have, pip = set(), []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip = dep["pip"]
            have |= {_name(d) for d in pip if not d.startswith("-")}
        else:
            n = _name(dep)
            have.add(CONDA_TO_PYPI.get(n, n))
    return have - {"python", "pip"}, pip


def test_rule_env_has_every_runtime_dependency_and_the_package():
    """workflow/envs/lsm.yaml (every rule's `conda:`, for --sdm conda) names exactly the
    runtime dependencies of pyproject.toml, and installs the package itself from the
    repository root (relative to the env file: workflow/envs/../..)."""
    py = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in py["dependencies"]}
    env_file = REPO_ROOT / "workflow" / "envs" / "lsm.yaml"
    have, pip = _conda_names(env_file)
    assert wanted == have, (f"only in pyproject: {wanted - have}; "
                            f"only in lsm.yaml: {have - wanted}")
    editable = [d for d in pip if d.startswith("-e ")]
    assert editable and (env_file.parent / editable[0][3:].strip()).resolve() == REPO_ROOT
    rules = sorted((REPO_ROOT / "workflow" / "rules").glob("*.smk"))
    for f in rules:  # every shell rule runs in it
        text = f.read_text()
        assert text.count("    shell:") == text.count('conda:\n        "../envs/lsm.yaml"'), f
