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
