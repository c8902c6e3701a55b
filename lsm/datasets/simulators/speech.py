"""Spoken digits from eSpeak-NG, driven in-process through ctypes.

Backend: the `espeakng-loader` wheel (libespeak-ng plus its data; GPL-3.0-or-later), or
the `espeak-ng` command line where the wheel is not available (e.g. Linux aarch64).
Output: float32 mono at 22,050 Hz in [-1, 1].
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from lsm.errors import LSMBenchError

SAMPLE_RATE = 22050
WORDS = {"z": "zero", "o": "oh", "1": "one", "2": "two", "3": "three", "4": "four",
         "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine"}
ACCENTS = ["en", "en-us", "en-029", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd", "en-us-nyc"]
# Voice variants of espeak-ng-data/voices/!v that sound like speech (robots, whisper and
# croak left out); the female ones give the "woman" speakers.
FEMALE = ["f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "anika", "aunty",
          "belinda", "grandma", "linda", "steph", "steph2", "steph3"]
MALE = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Alex", "Andy", "Denis", "Gene",
        "Hugo", "Jacky", "Lee", "Michael", "Mike", "Reed", "adam", "benjamin", "boris",
        "caleb", "david", "ed", "edward", "gustave", "ian", "iven", "john", "max", "michel",
        "norbert", "paul", "quincy", "rob", "robert", "travis", "victor", "zac", "grandpa"]

_lib = None
_buf: list[np.ndarray] = []
_CB_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                            ctypes.c_void_p)


def _callback(wav, n, _events):
    if n > 0:
        _buf.append(np.ctypeslib.as_array(wav, (n,)).copy())
    return 0


_cb = _CB_TYPE(_callback)


def _library():
    """Load and initialise libespeak-ng once per process (None if unavailable)."""
    global _lib
    if _lib is None:
        try:
            import espeakng_loader
        except ImportError:
            return None
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        sr = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0)
        if sr != SAMPLE_RATE:
            raise LSMBenchError(f"libespeak-ng initialised at {sr} Hz, expected {SAMPLE_RATE}")
        lib.espeak_SetSynthCallback(_cb)
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        _lib = lib
    return _lib


def synthesize(text: str, voice: str, rate_wpm: int, pitch: int, pitch_range: int,
               rand_seed: int = 0) -> np.ndarray:
    """Speak `text` with an eSpeak voice (``accent+variant``).

    eSpeak-NG draws random numbers (some voice variants jitter pitch and breath) from a
    generator it seeds from the clock; `rand_seed` reseeds it before every utterance so
    that the audio does not depend on when it was made.
    """
    lib = _library()
    if lib is None:
        return _synthesize_cli(text, voice, rate_wpm, pitch, pitch_range)
    _buf.clear()
    lib.espeak_ng_SetRandSeed(int(rand_seed))
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise LSMBenchError(f"eSpeak-NG does not know the voice {voice!r}")
    lib.espeak_SetParameter(1, int(rate_wpm), 0)  # espeakRATE
    lib.espeak_SetParameter(3, int(pitch), 0)  # espeakPITCH
    lib.espeak_SetParameter(4, int(pitch_range), 0)  # espeakRANGE
    data = text.encode() + b"\0"
    lib.espeak_Synth(data, len(data), 0, 0, 0, 0, None, None)
    lib.espeak_Synchronize()
    if not _buf:
        raise LSMBenchError(f"eSpeak-NG produced no audio for {text!r} ({voice})")
    return np.concatenate(_buf).astype(np.float32) / 32768.0


def _synthesize_cli(text: str, voice: str, rate_wpm: int, pitch: int, pitch_range: int
                    ) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise LSMBenchError("no eSpeak-NG found: `pip install espeakng-loader` "
                            "(x86_64 Linux, macOS, Windows) or `apt install espeak-ng`.")
    from scipy.io import wavfile

    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "x.wav"
        subprocess.run([exe, "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "-w",
                        str(wav), text], check=True, capture_output=True)
        sr, x = wavfile.read(wav)
    if sr != SAMPLE_RATE:
        from scipy.signal import resample_poly

        x = resample_poly(x.astype(np.float64), SAMPLE_RATE, sr)
    return (np.asarray(x, dtype=np.float32) / 32768.0).astype(np.float32)
