"""Write a simulated N-TIDIGITS file (``n-tidigits.hdf5``) from eSpeak-NG speakers.

A "speaker" is a fixed eSpeak voice (accent + variant) with its own speaking rate, pitch
and pitch range; each speaks every digit twice (takes ``a`` and ``b``, slightly
perturbed). Train and test speakers are disjoint, as in TIDIGITS. Every utterance has its
own random stream derived from ``(seed, split, speaker, digit, take)``.

Determinism: libespeak-ng keeps internal synthesis state from one utterance to the next
(the same call gives slightly different audio depending on what was spoken before), and
seeds its random generator from the clock. So each speaker is synthesised in a fresh
forked process, in a fixed order, and the generator is reseeded from the utterance's own
stream before every utterance: the file is identical across runs and worker counts.
"""

from __future__ import annotations

import multiprocessing
import os
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly
from tqdm import tqdm

from lsm import atomic
from lsm.datasets.readers import ntidigits
from lsm.datasets.simulators import speech
from lsm.datasets.simulators.cochlea import FS, Cochlea, CochleaParams

GENERATOR_VERSION = "espeak-gammatone-1"
DIGITS = ["z", "o", "1", "2", "3", "4", "5", "6", "7", "8", "9"]


@dataclass(frozen=True)
class Speaker:
    code: str
    gender: str
    voice: str
    rate_wpm: int
    pitch: int
    pitch_range: int


def make_speakers(n: int, seed: int) -> list[Speaker]:
    """`n` distinct speakers (no two share accent and variant)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EA]))
    combos = [(a, v, "woman") for a in speech.ACCENTS for v in speech.FEMALE]
    combos += [(a, v, "man") for a in speech.ACCENTS for v in speech.MALE]
    if n > len(combos):
        raise ValueError(f"at most {len(combos)} distinct speakers, {n} requested")
    pick = rng.permutation(len(combos))[:n]
    letters = string.ascii_lowercase
    out = []
    for i, j in enumerate(pick):
        accent, variant, gender = combos[j]
        code = letters[(i // 26) % 26] + letters[i % 26]
        out.append(Speaker(code, gender, f"{accent}+{variant}",
                           int(rng.integers(120, 191)), int(rng.integers(25, 76)),
                           int(rng.integers(30, 81))))
    return out


_COCHLEA: dict = {}


def _cochlea(params: CochleaParams, chip_seed: int) -> Cochlea:
    key = (params, chip_seed)
    if key not in _COCHLEA:
        _COCHLEA[key] = Cochlea(params, chip_seed)
    return _COCHLEA[key]


def _speaker(args: tuple) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """All utterances of one speaker, in a fixed order (run in a fresh process)."""
    spk, seed, split_id, spk_idx, params = args
    return [_utterance((spk, d, take, seed, split_id, spk_idx, params))
            for d in DIGITS for take in "ab"]


def _utterance(args: tuple) -> tuple[str, np.ndarray, np.ndarray]:
    spk, digit, take, seed, split_id, spk_idx, params = args
    rng = np.random.default_rng(np.random.SeedSequence(
        [seed, split_id, spk_idx, DIGITS.index(digit), ord(take)]))
    jitter = 1 if take == "a" else 0
    rate = int(spk.rate_wpm * rng.uniform(0.93, 1.07)) + jitter
    pitch = int(np.clip(spk.pitch + rng.integers(-4, 5), 0, 99))
    wav = speech.synthesize(speech.WORDS[digit], spk.voice, rate, pitch, spk.pitch_range,
                            rand_seed=int(rng.integers(2**31)))
    x = resample_poly(wav.astype(np.float64), 160, 441)  # 22,050 -> 16,000 Hz
    pad = lambda: np.zeros(int(FS * rng.uniform(0.1, 0.15)))  # noqa: E731
    x = np.concatenate([pad(), x, pad()])
    x *= 10 ** (rng.uniform(-20, 0) / 20) / max(np.abs(x).max(), 1e-9)
    x += rng.normal(0, 1e-4, x.size)  # room and amplifier noise floor, -60 dB
    t, c = _cochlea(params, seed).events(x, rng)
    key = f"{spk.gender}-{spk.code}-{take}-{digit}"
    return key, t.astype(np.float32), c.astype(np.uint8)


def simulate_ntidigits(
    out_dir: str | Path, n_train_speakers: int, n_test_speakers: int, seed: int,
    params: CochleaParams | None = None, workers: int | None = None, progress: bool = True,
) -> dict:
    """Write a fresh `out_dir` (replacing an older one whole) holding ``n-tidigits.hdf5``
    and, last, ``MANIFEST.json`` (with the folder's ``contents``, checked by the frames
    step)."""
    params = params or CochleaParams()
    speakers = make_speakers(n_train_speakers + n_test_speakers, seed)
    parts = {"train": speakers[:n_train_speakers], "test": speakers[n_train_speakers:]}
    jobs = {s: [(spk, seed, i, k, params) for k, spk in enumerate(spks)]
            for i, (s, spks) in enumerate(parts.items())}
    workers = workers or min(2, os.cpu_count() or 1)
    result = {}
    # fork: children start from this process, which never loads libespeak-ng itself;
    # maxtasksperchild=1: every speaker gets a fresh synthesiser state.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, maxtasksperchild=1) as pool:
        for split, js in jobs.items():
            per_spk = list(tqdm(pool.imap(_speaker, js), total=len(js),
                                desc=f"simulate N-TIDIGITS {split}",
                                disable=not progress, mininterval=2))
            result[split] = [u for utts in per_spk for u in utts]
    counts = [t.size for items in result.values() for _, t, _ in items]
    with atomic.atomic_dir(out_dir, allowed=(ntidigits.FILENAME, atomic.MANIFEST)) as tmp:
        ntidigits.write_file(tmp / ntidigits.FILENAME, result)
        manifest = {
            "format": "ntidigits-hdf5", "generator_version": GENERATOR_VERSION,
            "data_source": "simulated", "seed": seed, "cochlea": params.to_dict(),
            "speech": "eSpeak-NG (espeakng-loader), GPL-3.0-or-later",
            "n_train": len(result["train"]), "n_test": len(result["test"]),
            "train_speakers": [s.code for s in parts["train"]],
            "test_speakers": [s.code for s in parts["test"]],
            "voices": {s.code: s.voice for s in speakers},
            "events_per_sample_mean": float(np.mean(counts)),
            "events_per_sample_std": float(np.std(counts)),
            "contents": atomic.folder_contents(tmp),
        }
        atomic.write_json(tmp / atomic.MANIFEST, manifest)
    return manifest
