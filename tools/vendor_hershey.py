"""Regenerate lsm/data/hershey_letters.json from the Hershey-Fonts wheel.

The strokes are vendored as data (with attribution in lsm/data/README.md) because the
wheel also installs a top-level `tests` package that collides with ours. Run once:
    pip install Hershey-Fonts==2.1.0 && python tools/vendor_hershey.py
"""

import json
import string
from pathlib import Path

from HersheyFonts import HersheyFonts

FONTS = ["futural", "rowmans", "timesr", "timesi", "scripts", "cursive"]

out = {}
f = HersheyFonts()
for name in FONTS:
    f.load_default_font(name)
    out[name] = {c: [[list(map(float, p)) for p in s] for s in f.strokes_for_text(c)]
                 for c in string.ascii_lowercase}
path = Path(__file__).resolve().parents[1] / "lsm" / "data" / "hershey_letters.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"wrote {path} ({path.stat().st_size} bytes)")
