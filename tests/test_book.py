"""The built book, opened in headless Chromium.

Checks that every page of the table of contents renders (its title is there,
no traceback or error output), that Chinese text appears, and that every
glued number equals its results file (read here directly, not through the
chapter's code).  Keeps a screenshot of the structural chapter in
``book/_build/screenshots/``.  Skips when the book has not been built
(``.venv/bin/jupyter-book build book -W -n --keep-going``).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.study.booktools import BOOK_NUMBERS, PLACEHOLDER, source_path

pytestmark = pytest.mark.book

BOOK = paths.DEFAULT.book
HTML = paths.DEFAULT.book_html
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND"]  # offline: fail DNS at once (MathJax CDN)

if not (HTML / "index.html").exists():
    pytest.skip("the book has not been built (run `.venv/bin/jupyter-book build book -W -n --keep-going`)",
                allow_module_level=True)
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [c["file"] for c in part["chapters"]]
    return pages


def _chromium(*args, timeout=120) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-500:]}")
    return proc.stdout


_AGGREGATOR = """<!doctype html><html><head><meta charset="utf-8"><title>loading</title></head>
<body><div id="out"></div><script>
const pages = %s;
let done = 0;
pages.forEach((p, i) => {
  const f = document.createElement("iframe");
  f.src = p; f.style.width = "1280px"; f.style.height = "900px";
  f.onload = () => {
    const t = document.createElement("textarea");
    t.id = "page-" + i;
    t.textContent = f.contentDocument.documentElement.outerHTML;
    document.getElementById("out").appendChild(t);
    f.remove();
    done += 1;
    if (done === pages.length) document.title = "loaded";
  };
  document.body.appendChild(f);
});
</script></body></html>"""


@pytest.fixture(scope="module")
def dom() -> dict[str, str]:
    """page -> its DOM after Chromium loaded it.

    One browser start for all pages (a start costs seconds): an aggregator
    page loads every chapter in an iframe and copies each loaded DOM into a
    textarea, and ``--dump-dom`` prints the aggregator.
    """
    pages = _toc_pages()
    urls = [(HTML / f"{p}.html").as_uri() for p in pages]
    with tempfile.TemporaryDirectory() as tmp:
        agg = Path(tmp) / "all.html"
        agg.write_text(_AGGREGATOR % json.dumps(urls), encoding="utf-8")
        out = _chromium("--allow-file-access-from-files", "--virtual-time-budget=60000", "--dump-dom", agg.as_uri())
    found = {int(i): unescape(body) for i, body in re.findall(r'<textarea id="page-(\d+)">(.*?)</textarea>', out, flags=re.S)}
    missing = [pages[i] for i in range(len(pages)) if i not in found]
    assert not missing, f"Chromium did not load {missing}"
    return {pages[i]: found[i] for i in range(len(pages))}


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _source_title(page: str) -> str:
    text = (BOOK / f"{page}.md").read_text(encoding="utf-8")
    return re.search(r"^# (.+)$", text, flags=re.M).group(1).strip()


def test_every_page_renders_with_its_title(dom):
    for page, html in dom.items():
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.S)
        assert h1, f"{page}: no <h1>"
        assert _source_title(page).split(" · ")[0] in _text(h1.group(1)), page


def test_no_error_output(dom):
    for page, html in dom.items():
        text = _text(html)
        assert "Traceback" not in text, page
        assert not re.search(r'class="[^"]*\b(output (error|traceback)|output_error)\b', html), page
        assert "stderr" not in re.findall(r'class="([^"]*)"', html), page


def test_chinese_text_on_every_page(dom):
    for page, html in dom.items():
        assert len(re.findall(r"[\u4e00-\u9fff]", _text(html))) > 20, page


def _pasted(html: str) -> list[str]:
    return [unescape(s).strip() for s in re.findall(r'<span class="pasted-text">(.*?)</span>', html, flags=re.S)]


def _expected(number) -> str:
    """The text the book must show for ``number``, read straight from its file."""
    path = source_path(number.source)
    if not path.exists():
        return PLACEHOLDER
    if path.suffix == ".json":
        value = json.loads(path.read_text(encoding="utf-8"))
        for part in number.field.split("."):
            if part not in value:
                return PLACEHOLDER
            value = value[part]
    else:
        frame = pd.read_csv(path)
        column, _, selector = number.field.partition("@")
        if selector == "nrows":
            value = len(frame)
        elif selector in ("sum", "max", "min"):
            value = getattr(frame[column], selector)()
        else:
            key, _, want = selector.partition("=")
            value = frame.loc[frame[key].astype(str) == want, column].item()
    if number.fmt == "s":
        return str(value)
    if number.fmt == "d":
        return str(int(round(float(value))))
    if number.fmt == "p":
        return "< .001" if value < 0.001 else f"{value:.3f}".lstrip("0")
    return format(float(value), number.fmt)


def test_glued_numbers_equal_results_files(dom):
    for number in BOOK_NUMBERS:
        page = f"chapters/{number.chapter}"
        shown = _pasted(dom[page])
        want = _expected(number)
        assert want in shown, f"{page}: {number.key} should show {want!r} ({number.source} {number.field}); page shows {shown}"


def test_instrument_numbers_equal_the_instrument(dom):
    from analysis.study.instrument import load_instrument

    ins = load_instrument()
    intro = _pasted(dom["chapters/01_intro"])
    assert str(len(ins.items)) in intro and str(len(ins.constructs)) in intro
    assert str(len(ins.second_order)) in intro
    framework = _pasted(dom["chapters/02_framework"])
    assert str(len(ins.reverse_codes)) in framework
    # every item code and its seed quote are in the traceability table
    text = _text(dom["chapters/02_framework"])
    for item in ins.items:
        assert item.code in text and item.seed_quote in text, item.code


def test_synthetic_label_on_chapters_with_data(dom):
    from analysis.results import SYNTHETIC_NOTE_ZH

    for chapter in ("04_data", "05_measurement", "06_structural", "07_robustness", "08_power", "09_implications"):
        assert SYNTHETIC_NOTE_ZH in _text(dom[f"chapters/{chapter}"]), chapter


def test_chapters_download_as_notebooks():
    for page in _toc_pages():
        html = (HTML / f"{page}.html").read_text(encoding="utf-8")
        if "kernelspec" not in (BOOK / f"{page}.md").read_text(encoding="utf-8"):
            continue
        name = Path(page).name
        assert f'_sources/{page}.ipynb"' in html, page
        nb = json.loads((HTML / "_sources" / f"{page}.ipynb").read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"] == "python3", name
        assert any(c["cell_type"] == "code" for c in nb["cells"]), name


def test_screenshot_of_structural_chapter():
    out = HTML.parent / "screenshots" / "06_structural.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    _chromium("--window-size=1280,3000", "--hide-scrollbars", f"--screenshot={out}",
              (HTML / "chapters" / "06_structural.html").as_uri())
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
