"""``results/report.html``: one self-contained page to open after a run.

It holds the reproduction report (``report.md``: the paper's values beside ours), every
table (their Markdown renderings, caption and data source included), every summary
figure (embedded as PNG, with a link to its SVG beside it) and links to the executed
notebooks, rendered as HTML into ``notebooks_html/`` next to the page. Nothing here
computes a number: the page shows what the tables and figures of this run hold.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path

from lsm import atomic
from lsm.errors import DataFormatError

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:0 auto;
padding:1rem 2rem;color:#1b1b1b;line-height:1.45}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.4rem 0;
font-size:.9rem;z-index:1}
nav a{margin-right:1rem}
table{border-collapse:collapse;font-size:.78rem;margin:.5rem 0 1.5rem;display:block;
overflow-x:auto}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}
th{background:#f3f3f3}
tr:nth-child(even) td{background:#fafafa}
figure{margin:1rem 0 2rem}
figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#444}
.banner{background:#fff4d6;border:1px solid #e0b84d;padding:.5rem 1rem;margin:1rem 0}
details{margin:.3rem 0 1rem}
summary{cursor:pointer;font-weight:600}
"""


def _markdown(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataFormatError(path, f"{what} not found.",
                              "rerun the workflow rule that makes it.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(path, f"cannot read {what} ({exc}).",
                              "delete it and rerun the workflow.") from exc


def _data_uri(png: Path) -> str:
    try:
        data = png.read_bytes()
    except OSError as exc:
        raise DataFormatError(png, f"cannot read the figure ({exc}).",
                              "rerun the workflow rule that draws it.") from exc
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise DataFormatError(png, "is not a PNG image.", "delete it and rerun the workflow.")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _embed_images(body: str, base: Path) -> str:
    """Relative ``<img src>`` of the report's Markdown, embedded (a page that opens
    anywhere, from an e-mail or a copied folder)."""

    def repl(m: re.Match) -> str:
        src = html.unescape(m.group(2))
        path = base / src
        if src.startswith(("data:", "http:", "https:")) or not path.is_file():
            return m.group(0)
        return f'{m.group(1)}"{_data_uri(path)}"'

    return re.sub(r'(<img[^>]*?\bsrc=)"([^"]+)"', repl, body)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def notebook_html(notebook: Path, out: Path) -> None:
    """An executed notebook rendered as a standalone HTML page (nbconvert), atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception as exc:  # nbformat raises plain exceptions for broken JSON
        raise DataFormatError(notebook, f"not a readable notebook ({exc}).",
                              "rerun the workflow rule that executes it.") from exc
    body, _ = HTMLExporter(template_name="classic", embed_images=True).from_notebook_node(nb)
    atomic.write_text(out, body)


def build_html(report_md: Path, tables: Sequence[Path], figures: Sequence[Path],
               notebooks: Sequence[Path], out: Path, notebooks_dir: Path,
               results_dir: Path | None = None) -> str:
    """Write ``report.html`` (`out`) and the notebooks' pages under `notebooks_dir`.

    `tables`: the tables' CSVs (their ``.md`` renderings beside them are shown);
    `figures`: the summary figures' PNGs (their ``.svg`` linked when present);
    `notebooks`: executed notebooks, linked by their path under `results_dir` (default:
    the report's folder). Returns the page."""
    out, report_md = Path(out), Path(report_md)
    results_dir = Path(results_dir) if results_dir else out.parent
    report = _embed_images(_markdown(_read(report_md, "the report")), report_md.parent)
    sections = [("report", "Report", report)]

    parts = []
    for t in tables:
        md = Path(t).with_suffix(".md")
        text = _read(md, "the table's Markdown rendering")
        title, _, rest = text.partition("\n")
        name = title.lstrip("# ").strip() or md.stem
        parts.append(f'<details open id="table-{_slug(md.stem)}"><summary>{html.escape(name)}'
                     f' <small>(<a href="{_rel(Path(t), out.parent)}">{html.escape(md.stem)}'
                     f'.csv</a>)</small></summary>{_markdown(rest)}</details>')
    sections.append(("tables", f"Tables ({len(parts)})", "\n".join(parts)))

    figs = []
    for f in figures:
        f = Path(f)
        svg = f.with_suffix(".svg")
        link = (f' · <a href="{_rel(svg, out.parent)}">SVG</a>' if svg.is_file() else "")
        figs.append(f'<figure id="figure-{_slug(_rel(f, out.parent))}">'
                    f'<img alt="{html.escape(f.stem)}" src="{_data_uri(f)}">'
                    f'<figcaption><code>{html.escape(_rel(f, out.parent))}</code>{link}'
                    f"</figcaption></figure>")
    sections.append(("figures", f"Figures ({len(figs)})", "\n".join(figs)))

    items = []
    Path(notebooks_dir).mkdir(parents=True, exist_ok=True)  # a declared output, even empty
    # compared resolved: "results/x" and "./results/x" (or a symlinked folder) are one
    base, under = (results_dir / "notebooks").resolve(), results_dir.resolve()
    pages: dict[Path, Path] = {}
    for nb in sorted(Path(n) for n in notebooks):
        real = nb.resolve()  # results/notebooks/<stage>/... -> <stage>/...
        rel = (real.relative_to(base) if real.is_relative_to(base) else
               real.relative_to(under) if real.is_relative_to(under) else Path(nb.name))
        if rel in pages:
            raise DataFormatError(nb, f"would be rendered to the same page as {pages[rel]} "
                                  f"({rel.with_suffix('.html')}).",
                                  "give notebooks under the results folder, or with "
                                  "distinct file names.")
        pages[rel] = nb
        page = Path(notebooks_dir) / rel.with_suffix(".html")
        notebook_html(nb, page)
        items.append(f'<li><a href="{_rel(page, out.parent)}">{html.escape(str(rel))}</a></li>')
    sections.append(("notebooks", f"Executed notebooks ({len(items)})",
                     f"<ul>{''.join(items)}</ul>" if items else "<p>None in this run.</p>"))

    simulated = "SIMULATED" in report
    nav = "".join(f'<a href="#{key}">{html.escape(label)}</a>' for key, label, _ in sections)
    banner = ('<div class="banner"><b>Data: SIMULATED</b> offline substitutes of the '
              "paper's recordings, not the recordings themselves; numbers are not directly "
              "comparable to the paper's.</div>" if simulated else "")
    body = "\n".join(f'<section id="{key}"><h1>{html.escape(label)}</h1>{content}</section>'
                     if key != "report" else f'<section id="{key}">{content}</section>'
                     for key, label, content in sections)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>LSM-Bench report</title>"
            f"<style>{_CSS}</style></head><body><nav>{nav}</nav>{banner}{body}</body></html>\n")
    atomic.write_text(out, page)
    return page


def _rel(path: Path, start: Path) -> str:
    """`path` relative to `start` (as a URL path), or as given when it is not below it."""
    import os

    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).as_posix()
