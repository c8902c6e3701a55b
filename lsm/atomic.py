"""Atomic file output: write to a temporary name in the same folder, then rename.

A crash or a kill never leaves a half-written table, figure or feature file behind,
because `os.replace` is atomic on POSIX file systems. Whole folders (simulated datasets)
are built beside their destination and swapped in (:func:`atomic_dir`); their manifest
records what they hold (:func:`folder_contents`), so a reader can tell a stale or mixed
folder from the one the manifest describes (:func:`check_contents`).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lsm.errors import DataFormatError


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` on success.

    The temporary name keeps the file's suffix (or `suffix`), so libraries that infer the
    format from the extension (numpy, matplotlib) still work. The file gets the mode a
    plain ``open(path, "w")`` would give it (0o666 less the umask), not the 0o600 of a
    temporary file, so that others who share the results (a group on a cluster) can
    read them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{sfx}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # after the writer, which may recreate it
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    """The process umask: from /proc where it is listed (reading it there changes
    nothing), else by setting it and putting it back."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Compressed .npz, written atomically."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


MANIFEST = "MANIFEST.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clear_leftovers(path: Path) -> None:
    """Remove what an interrupted :func:`atomic_dir` of a dead process left beside `path`:
    its half-built ``.tmp-<pid>`` folder, and its ``.old-<pid>`` folder (put back if the
    kill fell between the two renames and `path` is missing)."""
    for kind in ("tmp", "old"):
        for sib in path.parent.glob(f"{glob.escape(path.name)}.{kind}-*"):
            pid = sib.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or (int(pid) != os.getpid() and _pid_alive(int(pid))):
                continue
            if kind == "old" and not path.exists():
                os.rename(sib, path)
            else:
                shutil.rmtree(sib, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path, allowed: tuple[str, ...] | None = None) -> Iterator[Path]:
    """Yield an empty sibling folder ``<path>.tmp-<pid>``; on success it replaces `path`.

    The old folder is renamed away, the new one renamed in, then the old one deleted, so
    an interrupted run leaves the old folder (or the new one), never a half-written one
    or a mix of old and new files. `allowed`: the top-level names the old folder may hold
    (what the writer itself writes); a folder with anything else is refused, not deleted
    (``--out .`` must not wipe a working directory).
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()  # replace the linked folder, keep the link
    path.parent.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(path)
    if path.exists() and not path.is_dir():
        raise DataFormatError(path, "is a file, not a folder.", "choose a folder to write to.")
    if allowed is not None and path.is_dir():
        foreign = sorted(p.name for p in path.iterdir() if p.name not in allowed)
        if foreign:
            raise DataFormatError(
                path, f"holds {foreign[:5]}{' ...' if len(foreign) > 5 else ''}, which this "
                "step does not write; replacing the folder would delete them.",
                "choose a new or empty output folder, or move those files away.")
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.with_name(f"{path.name}.old-{os.getpid()}")
    if path.exists():
        os.rename(path, old)
    os.rename(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def folder_contents(root: str | Path) -> dict[str, dict[str, int]]:
    """Files and bytes per sub-folder of `root` ("." for the top; the manifest itself
    excluded), for a manifest to record and a reader to compare against."""
    root = Path(root)
    out: dict[str, dict[str, int]] = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f != root / MANIFEST:
            d = out.setdefault(f.parent.relative_to(root).as_posix(), {"files": 0, "bytes": 0})
            d["files"] += 1
            d["bytes"] += f.stat().st_size
    return out


def check_contents(root: str | Path, expected: dict[str, dict[str, int]]) -> None:
    """Raise :class:`DataFormatError` unless `root` holds what `expected` (a manifest's
    ``contents``) lists: stray files of an older run, or missing or truncated ones, would
    otherwise change the data without a trace."""
    found = folder_contents(root)
    if found == expected:
        return
    none = {"files": 0, "bytes": 0}
    diffs = [f"{d} holds {found.get(d, none)['files']} files "
             f"({found.get(d, none)['bytes']} bytes), the manifest lists "
             f"{expected.get(d, none)['files']} ({expected.get(d, none)['bytes']} bytes)"
             for d in sorted({*found, *expected}) if found.get(d) != expected.get(d)]
    more = f"; and {len(diffs) - 3} more folders" if len(diffs) > 3 else ""
    raise DataFormatError(root, f"does not hold what its {MANIFEST} lists ("
                          + "; ".join(diffs[:3]) + more + "): files of another run are "
                          "mixed in, or some are missing or truncated.",
                          "delete the folder and rerun (the workflow simulates it again).")


def checked_manifest(root: str | Path) -> dict[str, Any]:
    """The ``MANIFEST.json`` of a data folder (``{}`` where there is none), after
    :func:`check_contents` where it lists the folder's ``contents`` (simulated data; real
    data has no such list and is not checked)."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"is not readable JSON ({exc}).",
                              "delete the folder and rerun.") from exc
    if not isinstance(man, dict):
        raise DataFormatError(path, "is not a JSON object.", "delete the folder and rerun.")
    if isinstance(man.get("contents"), dict):
        check_contents(root, man["contents"])
    return man


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
