"""Real-data acquisition: checksummed, resumable, atomic downloads (needs internet).

Never used by the offline default. :func:`download` writes to ``<dest>.part`` with a
progress bar (size, rate, time left), resumes it with an HTTP Range request after an
interruption, retries with back-off, verifies the checksum, and only then renames the
file into place; a mismatch deletes the partial file and fails naming the path and both
sums. Every URL and checksum has a config key (``datasets.nmnist.train_url`` ...), whose
defaults are tonic's (hosts have moved before: tonic's issues record a dead N-MNIST link).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import string
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lsm import atomic
from lsm.errors import ConfigError, DataFormatError

EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
EMNIST_MD5 = "58c8d27c78d21e728a6bc7b3cc06412e"  # torchvision's checksum of gzip.zip
WILLETT_DOI = "doi:10.5061/dryad.wh70rxwmv"
WILLETT_MEMBER = "handwritingBCIData/Datasets/t5.2019.05.08/singleLetters.mat"
# tonic's sources (tonic.datasets.NMNIST, NTIDIGITS18), the config's defaults
# (tests/test_fetch.py keeps them equal to tonic's)
NMNIST_SOURCES = {
    "train": ("https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"
              "39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded",
              "20959b8e626244a1b502305a9e6e2031"),
    "test": ("https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"
             "05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded",
             "69ca8762b2fe404d9b9bad1103e97832"),
}
NTIDIGITS_URL = ("https://www.dropbox.com/scl/fi/1x4lxt9yyw25sc3tez8oi/n-tidigits.hdf5"
                 "?e=2&rlkey=w8gi5udvib2zqzosusa5tr3wq&dl=1")
NTIDIGITS_MD5 = "360a2d11e5429555c9197381cf6b58e0"


def file_digest(path: str | Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch_once(url: str, part: Path, timeout: float, label: str) -> None:
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url)
    if have:
        req.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        status = getattr(resp, "status", None)
        resumed = bool(have) and status == 206  # else the server ignored Range: restart
        length = resp.headers.get("Content-Length")
        start = have if resumed else 0
        total = start + int(length) if length and length.isdigit() else None
        with open(part, "ab" if resumed else "wb") as out, tqdm(
                total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                desc=label, mininterval=0.5) as bar:
            for block in iter(lambda: resp.read(1 << 20), b""):
                out.write(block)
                bar.update(len(block))


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
            _fetch_once(url, part, timeout, dest.name)
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


def fetch_nmnist(out_dir: str | Path, train_url: str = NMNIST_SOURCES["train"][0],
                 train_md5: str = NMNIST_SOURCES["train"][1],
                 test_url: str = NMNIST_SOURCES["test"][0],
                 test_md5: str = NMNIST_SOURCES["test"][1]) -> Path:
    """N-MNIST's Train.zip and Test.zip (md5-checked, resumable) extracted into
    ``<out_dir>/NMNIST/{Train,Test}``, tonic's layout."""
    out_dir = Path(out_dir)
    root = out_dir / "NMNIST"
    for split, url, md5 in (("Train", train_url, train_md5), ("Test", test_url, test_md5)):
        archive = download(url, out_dir / f"{split.lower()}.zip", md5=md5)
        with atomic.atomic_dir(root / split) as tmp:
            _extract_bins(archive, tmp, split)
    atomic.write_json(out_dir / "MANIFEST.json", {
        "format": "nmnist-bin", "data_source": "real", "generator_version": "none (real data)",
        "urls": [train_url, test_url], "md5": [train_md5, test_md5]})
    return root


def _extract_bins(archive: Path, dest: Path, split: str) -> None:
    """The ``<split>/<digit>/<id>.bin`` files of an N-MNIST zip into `dest` as
    ``<digit>/<id>.bin`` (the top folder dropped). macOS resource forks (``__MACOSX/``,
    ``._*``) are skipped; a member outside the archive, a .bin outside ``<split>/<digit>/``
    (the other split's zip given by mistake, say) or the same recording twice is refused:
    each would otherwise mix foreign files into the split."""
    n = 0
    seen: set[Path] = set()
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataFormatError(archive, f"is not a readable zip archive ({exc}).",
                              "delete it and rerun to download it again.") from exc
    with zf:
        for info in zf.infolist():
            path = Path(info.filename)
            parts = path.parts
            if (info.is_dir() or not info.filename.endswith(".bin") or "__MACOSX" in parts
                    or path.name.startswith("._")):
                continue
            if ".." in parts or path.is_absolute():
                raise DataFormatError(archive, f"member {info.filename!r} points outside "
                                      "the archive.", "delete the archive and rerun.")
            if len(parts) < 3 or parts[-3] != split or not parts[-2].isdigit():
                raise DataFormatError(archive, f"member {info.filename!r} is not a "
                                      f"{split}/<digit>/<id>.bin recording.",
                                      f"check that datasets.nmnist.{split.lower()}_url "
                                      f"points at N-MNIST's {split}.zip.")
            rel = Path(*parts[-2:])  # <digit>/<id>.bin
            if rel in seen:
                raise DataFormatError(archive, f"holds {rel} twice ({info.filename!r}).",
                                      "delete the archive and rerun; if it persists, the "
                                      "source is not N-MNIST's own zip.")
            seen.add(rel)
            (dest / rel.parent).mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(dest / rel, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise DataFormatError(archive, f"member {info.filename!r} is corrupt "
                                      f"({exc}).", "delete the archive and rerun.") from exc
            n += 1
    if not n:
        raise DataFormatError(archive, f"holds no .bin recordings for {split}.",
                              "check datasets.nmnist.train_url/test_url: the host may have "
                              "moved (delete the archive and rerun).")


def fetch_ntidigits(out_dir: str | Path, url: str = NTIDIGITS_URL,
                    md5: str = NTIDIGITS_MD5) -> Path:
    """n-tidigits.hdf5 (tonic's source by default), md5-checked (tonic's own
    NTIDIGITS18.download skips that check)."""
    out_dir = Path(out_dir)
    dest = download(url, out_dir / "n-tidigits.hdf5", md5=md5)
    atomic.write_json(out_dir / "MANIFEST.json", {
        "format": "ntidigits-hdf5", "data_source": "real", "md5": md5,
        "generator_version": "none (real data)", "url": url})
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


# `lsm data fetch <kind> --params JSON`: the downloader of each kind and the config keys
# it takes (as keyword arguments, every one optional)
FETCHERS: dict[str, tuple[Callable[..., Path], tuple[str, ...]]] = {
    "nmnist": (fetch_nmnist, ("train_url", "train_md5", "test_url", "test_md5")),
    "ntidigits": (fetch_ntidigits, ("url", "md5")),
    "emnist": (lambda out, emnist_url=EMNIST_URL, emnist_md5=EMNIST_MD5:
               fetch_emnist(out, emnist_url, emnist_md5), ("emnist_url", "emnist_md5")),
    "willett": (lambda out, willett_url=None, willett_sha256=None:
                fetch_willett(out, willett_url, willett_sha256),
                ("willett_url", "willett_sha256")),
}


# the config section each downloader's keys live in (for the error messages)
CONFIG_SECTION = {"nmnist": "datasets.nmnist", "ntidigits": "datasets.ntidigits",
                  "emnist": "datasets.bmi", "willett": "datasets.bmi"}
URL_SCHEMES = ("http", "https", "file")  # file: for mirrors on disk (and the tests)
_DIGEST_LEN = {"md5": 32, "sha256": 64}


def check_source(key: str, value: Any) -> None:
    """A URL must be http(s) or file, a checksum the right number of hex digits: a typo
    here would otherwise surface as a urllib traceback or a checksum 'mismatch'."""
    if key.endswith("url"):
        scheme = urllib.parse.urlsplit(value).scheme if isinstance(value, str) else ""
        if scheme not in URL_SCHEMES:
            raise ConfigError(key, f"{value!r} is not an http(s):// or file:// URL.",
                              "give the full address, e.g. https://host/path/file.zip.")
    for algo, n in _DIGEST_LEN.items():
        if key.endswith(algo) and not (isinstance(value, str) and len(value) == n
                                       and all(c in string.hexdigits for c in value)):
            raise ConfigError(key, f"{value!r} is not a {algo} checksum ({n} hex digits).",
                              f"copy the {algo} from the data host (e.g. `{algo}sum FILE`).")


def fetch(kind: str, out_dir: str | Path, params: dict[str, Any] | None = None) -> Path:
    """Run the downloader of `kind` with the config values in `params` (None values: the
    defaults), each checked by :func:`check_source` first."""
    fn, keys = FETCHERS[kind]
    given = {k: v for k, v in (params or {}).items() if v is not None}
    unknown = sorted(set(given) - set(keys))
    if unknown:
        raise ConfigError(f"lsm data fetch {kind} --params", f"has the unknown key(s) "
                          f"{unknown}.", f"give only {list(keys)}.")
    for key, value in given.items():
        check_source(f"{CONFIG_SECTION[kind]}.{key}", value)
    return fn(out_dir, **given)
