"""results/report.html opened in a real browser (headless Chromium): every image loads,
every table renders, and a screenshot of the page is kept under the repository's
results/ (results/report_screenshot.png)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from workflow_helpers import REPO

SCREENSHOT = REPO / "results" / "report_screenshot.png"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed here when it is missing (never a silent skip: a
    machine that can install neither fails the test and says why)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        r = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"],
                           capture_output=True, text=True, timeout=900,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if r.returncode != 0:  # a fresh image: the package lists first
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600)
            r = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"],
                               capture_output=True, text=True, timeout=900)
        found = shutil.which("chromium")
        if found:
            return found
        pytest.fail(f"could not install chromium with apt-get: {r.stderr[-1500:]}")
    pytest.fail("chromium is not installed and cannot be installed here (needs root and "
                "apt-get): install Debian's `chromium` package to run the browser test.")


def _browser(chromium: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--allow-file-access-from-files", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=180)


# loads the report in a frame and writes what it finds into the probe page's DOM
PROBE = """<!DOCTYPE html><html><body><pre id="out">pending</pre>
<iframe id="f" src="{src}" style="width:1280px;height:900px"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {{
  const d = document.getElementById("f").contentDocument;
  const imgs = [...d.images];
  const tables = [...d.querySelectorAll("table")];
  document.getElementById("out").textContent = JSON.stringify({{
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    tables: tables.length,
    empty_tables: tables.filter(t => t.rows.length < 2 || !t.querySelector("td")).length,
    sections: [...d.querySelectorAll("section")].map(s => s.id),
    notebook_links: [...d.querySelectorAll("#notebooks a")].map(a => a.getAttribute("href")),
  }});
}});
</script></body></html>"""


def test_report_html_opens_in_a_browser_with_every_image_and_table(test_run, chromium,
                                                                   tmp_path):
    res = test_run / "results"
    page = res / "report.html"
    assert page.is_file()
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.format(src=page.as_uri()))
    r = _browser(chromium, "--virtual-time-budget=20000", "--dump-dom", probe.as_uri())
    m = re.search(r'<pre id="out">(.*?)</pre>', r.stdout, re.S)
    assert m and m.group(1) != "pending", r.stdout[-2000:] + r.stderr[-2000:]
    found = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    n_figures = len(re.findall(r"<figure ", page.read_text()))
    assert found["broken"] == [] and found["images"] >= n_figures > 0, found
    n_tables = len(list((res / "tables").glob("*.md")))
    assert found["tables"] >= n_tables > 0 and found["empty_tables"] == 0, found
    assert found["sections"] == ["report", "tables", "figures", "notebooks"]
    # every summary figure, the variability one included, has its SVG beside it
    html = page.read_text()
    assert "variability" in html and html.count("SVG</a>") == n_figures
    assert found["notebook_links"], "no executed notebook is linked"
    for href in found["notebook_links"]:
        assert (page.parent / href).is_file(), href
    SCREENSHOT.parent.mkdir(exist_ok=True)
    r = _browser(chromium, "--window-size=1280,2400", f"--screenshot={SCREENSHOT}",
                 page.as_uri())
    assert SCREENSHOT.stat().st_size > 50_000, r.stderr[-2000:]


def _mini_results(tmp_path):
    """A results/ folder in the real layout: a report, a table (CSV + .md), a figure
    (PNG + SVG) and an executed notebook."""
    import nbformat

    from lsm.results.contract import aggregate, write_table
    from lsm.results.plots import save

    res = tmp_path / "results"
    doc = {"experiment": "supervised", "dataset": "d", "model": "M", "variant": "v",
           "data_source": "simulated", "selection": "val",
           "records": [{"seed": s, "split": "test", "metric": "accuracy", "value": 80.0 + s,
                        "unit": "%"} for s in (0, 1)]}
    write_table(aggregate([doc]), res / "tables" / "supervised.csv", "Supervised", "Caption.")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    save(fig, res / "figures" / "variability" / "variability.png")
    (res / "report.md").write_text("# Report\n\n**Data: SIMULATED**\n\n"
                                   "![v](figures/variability/variability.png)\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    (res / "notebooks" / "supervised").mkdir(parents=True)
    nbformat.write(nb, str(res / "notebooks" / "supervised" / "run.ipynb"))
    return res


def test_html_report_embeds_figures_links_svgs_and_notebooks(tmp_path):
    from lsm.results.html import build_html

    res = _mini_results(tmp_path)
    page = build_html(res / "report.md", [res / "tables" / "supervised.csv"],
                      [res / "figures" / "variability" / "variability.png"],
                      [res / "notebooks" / "supervised" / "run.ipynb"],
                      res / "report.html", res / "notebooks_html")
    assert page.count("data:image/png;base64,") == 2  # the report's image and the figure
    assert 'href="figures/variability/variability.svg">SVG</a>' in page
    assert 'href="notebooks_html/supervised/run.html"' in page
    assert (res / "notebooks_html" / "supervised" / "run.html").is_file()
    assert "<table>" in page and "80.50 ± 0.71 (n=2)" in page and "Data: SIMULATED" in page
    assert (res / "figures" / "variability" / "variability.svg").read_bytes().startswith(
        b"<?xml")


def test_html_report_bad_inputs_name_the_file(tmp_path):
    from lsm.errors import DataFormatError
    from lsm.results.html import build_html

    res = _mini_results(tmp_path)
    args = ([res / "tables" / "supervised.csv"],
            [res / "figures" / "variability" / "variability.png"],
            [res / "notebooks" / "supervised" / "run.ipynb"])
    (res / "tables" / "supervised.md").unlink()
    with pytest.raises(DataFormatError, match=r"supervised\.md: the table's Markdown"):
        build_html(res / "report.md", *args, res / "report.html", res / "nb")
    res = _mini_results(tmp_path / "b")
    (res / "figures" / "variability" / "variability.png").write_bytes(b"not a png")
    with pytest.raises(DataFormatError, match=r"variability\.png: is not a PNG"):
        build_html(res / "report.md", [res / "tables" / "supervised.csv"], [], [],
                   res / "report.html", res / "nb")
    res = _mini_results(tmp_path / "c")
    (res / "notebooks" / "supervised" / "run.ipynb").write_text("{broken")
    with pytest.raises(DataFormatError, match=r"run\.ipynb: not a readable notebook"):
        build_html(res / "report.md", [], [], [res / "notebooks" / "supervised" / "run.ipynb"],
                   res / "report.html", res / "nb")
    assert not (res / "report.html").exists()  # nothing half-written


def test_html_report_notebook_pages_resolve_paths_and_refuse_clashes(tmp_path, monkeypatch):
    from pathlib import Path

    from lsm.errors import DataFormatError
    from lsm.results.html import build_html

    res = _mini_results(tmp_path)
    monkeypatch.chdir(tmp_path)
    # a relative, unnormalised path to the same notebook still maps to <stage>/run.html
    page = build_html(res / "report.md", [], [], [Path("./results/../results/notebooks/"
                                                       "supervised/run.ipynb")],
                      res / "report.html", res / "notebooks_html")
    assert 'href="notebooks_html/supervised/run.html"' in page
    other = tmp_path / "elsewhere" / "a"
    other.mkdir(parents=True)
    shutil.copy(res / "notebooks" / "supervised" / "run.ipynb", other / "run.ipynb")
    (tmp_path / "elsewhere" / "b").mkdir()
    shutil.copy(other / "run.ipynb", tmp_path / "elsewhere" / "b" / "run.ipynb")
    with pytest.raises(DataFormatError, match="same page"):
        build_html(res / "report.md", [], [], [other / "run.ipynb",
                                                tmp_path / "elsewhere" / "b" / "run.ipynb"],
                   res / "report.html", res / "nb2")
