"""Pen trajectories of lower-case letters from vendored Hershey single-stroke glyphs.

A glyph's strokes are joined into one continuous pen path (pen-up moves become straight
segments, as in attempted handwriting), jittered by a random affine map, and time-warped
with a minimum-jerk speed profile over the letter's duration.
"""

from __future__ import annotations

import importlib.resources
import json
from functools import cache, lru_cache

import numpy as np

PRINT_FONTS = ["futural", "rowmans", "timesr", "timesi"]
CURSIVE_FONTS = ["scripts", "cursive"]


@lru_cache(maxsize=1)
def glyphs() -> dict[str, dict[str, list[list[list[float]]]]]:
    res = importlib.resources.files("lsm") / "data" / "hershey_letters.json"
    return json.loads(res.read_text())


def strokes(letter: str, font: str) -> list[np.ndarray]:
    """The glyph's pen-down strokes [P_k, 2] (x right, y down), centred, unit size."""
    out = [np.asarray(s, dtype=np.float64) for s in glyphs()[font][letter] if len(s) > 1]
    allp = np.concatenate(out)
    centre = allp.mean(0)
    scale = max(np.ptp(allp[:, 1]), np.ptp(allp[:, 0]), 1e-6)
    return [(s - centre) / scale for s in out]


@cache
def same_glyph(letter: str, font_a: str, font_b: str) -> bool:
    """Whether two fonts draw `letter` with the same strokes. Some vendored Hershey fonts
    share their lower-case glyphs: futural and rowmans, and scripts and cursive, draw all
    26 letters identically (checked in tests/test_bmi_font_disjoint.py)."""
    a, b = strokes(letter, font_a), strokes(letter, font_b)
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, atol=1e-9)
                                    for x, y in zip(a, b, strict=True))


def pen_path(letter: str, font: str) -> np.ndarray:
    """One continuous path [P, 2]: the strokes joined by straight pen-up moves."""
    return np.concatenate(strokes(letter, font))


def random_affine(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Identity + N(0, sigma^2) per entry: a writer's slant, stretch and rotation."""
    return np.eye(2) + rng.normal(0, sigma, (2, 2))


def jitter(path: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return path @ random_affine(rng, sigma).T


def resample_min_jerk(path: np.ndarray, n_steps: int) -> np.ndarray:
    """Positions at `n_steps` equal time steps, moving along the path's arc length with a
    minimum-jerk profile s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    tau = np.linspace(0, 1, n_steps)
    s = (10 * tau**3 - 15 * tau**4 + 6 * tau**5) * arc[-1]
    return np.stack([np.interp(s, arc, path[:, 0]), np.interp(s, arc, path[:, 1])], 1)


def render(pen_strokes: list[np.ndarray], rng: np.random.Generator, size: int = 28
           ) -> np.ndarray:
    """Draw pen-down strokes as an EMNIST-like 28x28 uint8 image (white ink on black)."""
    from PIL import Image, ImageDraw, ImageFilter

    canvas = 128
    allp = np.concatenate(pen_strokes)
    lo = allp.min(0)
    span = max(float((allp - lo).max()), 1e-6)
    img = Image.new("L", (canvas, canvas), 0)
    draw = ImageDraw.Draw(img)
    width = int(rng.integers(6, 13))
    for s in pen_strokes:
        p = (s - lo) / span * (canvas * 0.7) + canvas * 0.15
        draw.line([tuple(q) for q in p], fill=255, width=width, joint="curve")
    img = img.filter(ImageFilter.GaussianBlur(1.0))
    box = img.getbbox() or (0, 0, canvas, canvas)
    img = img.crop(box)
    w, h = img.size
    side = max(w, h) + 4
    sq = Image.new("L", (side, side), 0)
    sq.paste(img, ((side - w) // 2, (side - h) // 2))
    arr = np.asarray(sq.resize((size, size), Image.BICUBIC), dtype=np.float64)
    return np.clip(arr / max(arr.max(), 1) * 255, 0, 255).astype(np.uint8)
