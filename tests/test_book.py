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
    if number.fmt == "zh":  # a code shown in Chinese: the glossary's words (intervals by their name)
        from analysis.study.glossary import INTERVALS, code_labels

        return INTERVALS[value][0] if value in INTERVALS else code_labels().get(str(value), str(value))
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


# ---- one hop for reviewers; wide tables; interface strings -------------------------------------

_LAYOUT = """<!doctype html><html><head><meta charset="utf-8"><title>loading</title></head>
<body><pre id="out"></pre><script>
const pages = %s;
const out = {};
let done = 0;
function scrolls(el, doc) {
  for (let a = el.parentElement; a && a !== doc.body; a = a.parentElement) {
    const ox = doc.defaultView.getComputedStyle(a).overflowX;
    if (ox === "auto" || ox === "scroll") return a.clientWidth;
  }
  return null;
}
pages.forEach((p, i) => {
  const f = document.createElement("iframe");
  f.src = p; f.style.width = "1280px"; f.style.height = "900px";
  f.onload = () => {
    const doc = f.contentDocument;
    const article = doc.querySelector("article.bd-article") || doc.querySelector("main");
    const column = article.clientWidth;
    out[i] = {column: column, tables: Array.from(article.querySelectorAll("table")).map(t => ({
      width: Math.round(t.getBoundingClientRect().width), scroller: scrolls(t, doc),
      caption: ((t.closest("div.apa-table") || {}).querySelector ? t.closest("div.apa-table").querySelector("p.apa-caption").textContent : "")}))};
    f.remove();
    done += 1;
    if (done === pages.length) { document.getElementById("out").textContent = JSON.stringify(out); document.title = "loaded"; }
  };
  document.body.appendChild(f);
});
</script></body></html>"""


@pytest.fixture(scope="module")
def table_widths() -> dict:
    """page -> {"column": width of the text column, "tables": [{"width", "scroller", "caption"}]}, measured by Chromium."""
    pages = _toc_pages()
    urls = [(HTML / f"{p}.html").as_uri() for p in pages]
    with tempfile.TemporaryDirectory() as tmp:
        agg = Path(tmp) / "widths.html"
        agg.write_text(_LAYOUT % json.dumps(urls), encoding="utf-8")
        out = _chromium("--allow-file-access-from-files", "--virtual-time-budget=60000", "--window-size=1280,900",
                        "--dump-dom", agg.as_uri())
    data = json.loads(unescape(re.search(r'<pre id="out">(.*?)</pre>', out, flags=re.S).group(1)))
    return {pages[int(i)]: v for i, v in data.items()}


def test_no_table_wider_than_the_text_column_without_a_scroll_container(table_widths):
    assert table_widths, "no page measured"
    wide = 0
    for page, m in table_widths.items():
        for t in m["tables"]:
            if t["width"] > m["column"] + 1:
                wide += 1
                assert t["scroller"] is not None and t["scroller"] <= m["column"] + 1, \
                    f"{page}: a table {t['width']} px wide in a {m['column']} px column is cut off ({t['caption']!r})"
    assert wide > 0  # the book has wide tables (6.3, 8.2); the check above has something to check


def test_the_structural_tables_show_the_reported_interval_without_scrolling(dom, table_widths):
    """Tables 6.2 and 6.3 put the reported interval right after the estimate, inside the text column."""
    html = dom["chapters/06_structural"]
    for caption in ("表 6.2", "表 6.3"):
        block = re.search(r'<p class="apa-caption"[^>]*>' + caption + r'.*?</thead>', html, flags=re.S).group(0)
        heads = [_text(h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", block, flags=re.S)]
        lower = next(i for i, h in enumerate(heads) if "区间下限" in h)
        assert lower <= 3 and "区间上限" in heads[lower + 1], (caption, heads)


def test_every_table_names_its_file_and_the_command_from_the_dag(dom):
    from analysis.study.booktools import recreate_command

    n = 0
    for page, html in dom.items():
        for block in re.findall(r'<div class="apa-table".*?</table>', html, flags=re.S):
            prov = re.search(r'<p class="apa-provenance"[^>]*>(.*?)</p>', block, flags=re.S)
            caption = _text(re.search(r'<p class="apa-caption"[^>]*>(.*?)</p>', block, flags=re.S).group(1))
            assert prov, f"{page}: table {caption!r} names no file"
            codes = [unescape(c) for c in re.findall(r"<code>(.*?)</code>", prov.group(1))]
            files = [c for c in codes if "/" in c and not c.startswith("resilience") and not c.startswith("analysis.")]
            commands = [c for c in codes if c.startswith("resilience reproduce")]
            if page in ("appendices/reproduce", "appendices/numbers"):
                continue  # the DAG table names analysis/pipeline.py; the numbers table names a file on each row
            assert files and commands, f"{page}: {caption!r}: {codes}"
            assert set(commands) == {recreate_command(f) for f in files}, (page, caption)
            n += 1
    assert n > 40


def test_every_figure_names_its_file_and_command(dom):
    for page, html in dom.items():
        sources = re.findall(r'<p class="apa-provenance figure-provenance"[^>]*>(.*?)</p>', html, flags=re.S)
        figures = len(re.findall(r"<figcaption", html))
        assert len(sources) >= figures, f"{page}: {figures} figures, {len(sources)} provenance lines"
        for s in sources:
            assert "resilience reproduce " in s, page


def test_glued_numbers_link_to_their_file_and_key(dom):
    from analysis.study.booktools import numbers_table

    numbers = numbers_table().set_index("key")
    appendix = dom["appendices/numbers"]
    for page, html in dom.items():
        if not page.startswith("chapters/"):
            continue
        for tag, attrs, key_text in re.findall(r'<(a|abbr) ([^>]*class="[^"]*glued-number[^>]*)>\s*<span class="pasted-text">(.*?)</span>',
                                               html, flags=re.S):
            title = unescape(re.search(r'title="([^"]*)"', attrs).group(1))
            assert " · " in title and (paths.ROOT / title.split(" · ")[0]).exists(), (page, title)
        # every declared number of this chapter is a link to its row, titled with its file and field
        for key, row in numbers[numbers["chapter"] == page.split("/")[1]].iterrows():
            m = re.search(r'<a [^>]*href="\.\./appendices/numbers\.html#num-' + re.escape(key) + r'"[^>]*>', html)
            assert m, f"{page}: {key} is not linked to the numbers appendix"
            assert f'title="{row.file} · {row.field}"' in unescape(m.group(0)), (key, m.group(0))
            assert f'id="num-{key}"' in appendix, key
    # no glued number in the chapters (or the checklist) without its file
    for page, html in dom.items():
        if not (page.startswith("chapters/") or page == "appendices/reviewer_checklist"):
            continue  # the colophon glues the build's own git commit and Python version
        linked = len(re.findall(r'glued-number[^>]*>\s*<span class="pasted-text">', html))
        assert linked == len(re.findall(r'<span class="pasted-text">', html)), f"{page}: a glued number without its source"


def test_numbers_appendix_shows_the_values_of_the_files(dom):
    html = dom["appendices/numbers"]
    for number in BOOK_NUMBERS:
        row = re.search(r'<tr id="num-' + re.escape(number.key) + r'">(.*?)</tr>', html, flags=re.S)
        assert row, number.key
        assert re.search(r">\s*" + re.escape(_expected(number)) + r"\s*<", unescape(row.group(1))), number.key


def test_reproduce_appendix_lists_every_step_of_the_dag_and_counts_the_manifest(dom):
    from analysis.pipeline import STEPS

    text = _text(dom["appendices/reproduce"])
    for step in STEPS:
        assert f"resilience reproduce {step}" in text, step
    manifest = json.loads(paths.DEFAULT.manifest.read_text(encoding="utf-8"))
    n = len(manifest["tables"]) + len(manifest["figures"]) + len(manifest["numbers_files"])
    assert f"当前清单记录了 {n} 个结果文件" in text


def test_reviewer_checklist_rows_are_glued_and_linked(dom):
    from analysis.study.checklist import reviewer_checklist

    html = dom["appendices/reviewer_checklist"]
    shown = _pasted(html)
    checklist = reviewer_checklist()
    assert len(checklist) >= 20
    for r in checklist.itertuples():
        assert r.value in shown and r.verdict in shown, r.id
    links = re.findall(r'<a href="\.\./(chapters/[^"#]+)\.html#(table-[0-9a-z-]+)"', html)
    assert len(links) >= len(checklist) - 2
    for page, anchor in set(links):
        assert f'id="{anchor}"' in dom[page], (page, anchor)
    text = _text(html)
    if (checklist["id"] == "ave").any() and checklist.set_index("id").loc["ave", "verdict"] != "满足":
        assert "AVE 低于 0.50" in text and "CR > 0.60" in text  # says so, and what the literature accepts


def test_interface_strings_are_chinese(dom):
    for page, html in dom.items():
        for english in ("Show code cell", "Hide code cell", "Click to show", "Search this book"):
            assert english not in html, f"{page}: {english!r}"
        assert 'lang="zh-CN"' in html or 'lang="zh_CN"' in html, page


def test_no_code_words_in_chinese_sentences(dom):
    """Codes of the results files never sit in a Chinese sentence as words (``处理方式为 two-stage``)."""
    for page, html in dom.items():
        for span in _pasted(html):
            if re.search(r"[\u4e00-\u9fff]", span):
                continue
            assert not re.fullmatch(r"(two[.-]stage(-em)?|listwise|fiml|community|respondent|symmetric-t)", span), \
                (page, span)
