"""Real-data acquisition: checksummed, resumable, atomic downloads (needs internet).

Never used by the offline default. :func:`download` writes to ``<dest>.part``, resumes
it with an HTTP Range request after an interruption, retries with back-off, verifies the
checksum, and only then renames the file into place; a mismatch deletes the partial file
and fails naming the path and both sums.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from lsm import atomic
from lsm.errors import DataFormatError

EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
EMNIST_MD5 = "58c8d27c78d21e728a6bc7b3cc06412e"  # torchvision's checksum of gzip.zip
WILLETT_DOI = "doi:10.5061/dryad.wh70rxwmv"
WILLETT_MEMBER = "handwritingBCIData/Datasets/t5.2019.05.08/singleLetters.mat"


def file_digest(path: str | Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch_once(url: str, part: Path, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url)
    if have:
        req.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        status = getattr(resp, "status", None)
        mode = "ab" if have and status == 206 else "wb"  # server ignored Range: restart
        with open(part, mode) as out:
            shutil.copyfileobj(resp, out, 1 << 20)


def download(url: str, dest: str | Path, *, md5: str | None = None, sha256: str | None = None,
             retries: int = 3, timeout: float = 60.0, backoff_s: float = 1.0) -> Path:
    """Download `url` to `dest` (see the module docstring). Returns `dest`."""
    dest = Path(dest)
    if dest.is_file():
        _verify(dest, md5, sha256, remove=False)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(retries + 1):
        try:
            _fetch_once(url, part, timeout)
            break
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            if attempt == retries:
                raise DataFormatError(dest, f"download of {url} failed after {retries + 1} "
                                      f"attempts ({exc}).",
                                      "check the connection and rerun: the partial file "
                                      f"{part.name} is resumed.") from exc
            time.sleep(backoff_s * 2**attempt)
    _verify(part, md5, sha256, remove=True, shown=dest)
    part.replace(dest)
    return dest


def _verify(path: Path, md5: str | None, sha256: str | None, remove: bool,
            shown: Path | None = None) -> None:
    for algo, want in (("md5", md5), ("sha256", sha256)):
        if want:
            got = file_digest(path, algo)
            if got != want.lower():
                if remove:
                    path.unlink()
                raise DataFormatError(shown or path, f"{algo} checksum mismatch: expected "
                                      f"{want}, got {got}.",
                                      "the download is corrupt or the source changed; "
                                      "delete the file and rerun.")


def fetch_nmnist(out_dir: str | Path) -> Path:
    """N-MNIST through tonic (md5-checked) into ``<out_dir>/NMNIST/{Train,Test}``."""
    import tonic

    out_dir = Path(out_dir)
    try:
        for train in (True, False):
            tonic.datasets.NMNIST(save_to=str(out_dir), train=train)
    except Exception as exc:  # tonic raises plain exceptions for network and md5 failures
        raise DataFormatError(
            out_dir, f"N-MNIST download failed ({exc}).",
            "check the internet connection, or download Train.zip and Test.zip from "
            "https://www.garrickorchard.com/datasets/n-mnist, extract them and set "
            "datasets.nmnist.data_dir to the folder holding Train/ and Test/.") from exc
    atomic.write_json(out_dir / "MANIFEST.json", {
        "format": "nmnist-bin", "data_source": "real", "generator_version": "none (real data)",
        "via": "tonic.datasets.NMNIST (md5-checked)"})
    return out_dir / "NMNIST"


def fetch_ntidigits(out_dir: str | Path) -> Path:
    """n-tidigits.hdf5 from tonic's source, checked against tonic's md5 (tonic's own
    NTIDIGITS18.download skips that check)."""
    from tonic.datasets import NTIDIGITS18

    out_dir = Path(out_dir)
    dest = download(NTIDIGITS18.base_url, out_dir / NTIDIGITS18.filename,
                    md5=NTIDIGITS18.file_md5)
    atomic.write_json(out_dir / "MANIFEST.json", {
        "format": "ntidigits-hdf5", "data_source": "real", "md5": NTIDIGITS18.file_md5,
        "generator_version": "none (real data)", "url": NTIDIGITS18.base_url})
    return dest


def fetch_emnist(out_dir: str | Path, url: str = EMNIST_URL, md5: str = EMNIST_MD5) -> Path:
    """EMNIST's gzip.zip (md5-checked); extracts the four letters IDX files."""
    out_dir = Path(out_dir)
    archive = download(url, out_dir / "gzip.zip", md5=md5)
    with zipfile.ZipFile(archive) as zf:
        for split in ("train", "test"):
            for kind in ("images-idx3", "labels-idx1"):
                name = f"emnist-letters-{split}-{kind}-ubyte"
                with zf.open(f"gzip/{name}.gz") as gz, gzip.open(gz) as src, \
                        atomic.atomic_path(out_dir / name, suffix="") as tmp, \
                        open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    return out_dir


def fetch_willett(out_dir: str | Path, url: str | None, sha256: str | None) -> Path:
    """singleLetters.mat of session t5.2019.05.08 from Willett's Dryad archive."""
    out_dir = Path(out_dir)
    if not url:
        raise DataFormatError(
            out_dir, f"no download URL configured for the Willett archive ({WILLETT_DOI}).",
            "download handwritingBCIData.tar.gz from Dryad, extract "
            f"{WILLETT_MEMBER} and set datasets.bmi.willett_dir to its folder, or set "
            "datasets.bmi.willett_url (and willett_sha256).")
    archive = download(url, out_dir / "handwritingBCIData.tar.gz", sha256=sha256)
    dest = out_dir / "singleLetters.mat"
    with tarfile.open(archive, "r:gz") as tf:
        try:
            member = tf.getmember(WILLETT_MEMBER)
        except KeyError as exc:
            raise DataFormatError(archive, f"archive lacks {WILLETT_MEMBER}.") from exc
        with tf.extractfile(member) as src, atomic.atomic_path(dest) as tmp, \
                open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return dest
