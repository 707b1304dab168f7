"""Build the Jupyter Book, re-executing only the chapters whose inputs changed.

Jupyter Book's cache (jupyter-cache) keys a notebook on its code cells, so a
chapter whose code is unchanged but whose results file changed would show
stale numbers.  ``book/chapter_deps.yml`` therefore declares, for each
chapter, the files and folders its numbers come from (results files, data,
package modules).  Before each build we fingerprint those inputs and drop the
cached execution of exactly the chapters whose fingerprint changed; the build
then re-executes those chapters and takes every other one from the cache.

The build runs with warnings as errors (``--all -W -n --keep-going``).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from . import paths
from .io import sha256, write_json

__all__ = ["chapter_fingerprints", "invalidate_changed_chapters", "build_book"]

_STATE = ".chapter_fingerprints.json"


def _expand(entry: str) -> list[Path]:
    target = paths.ROOT / entry
    if any(ch in entry for ch in "*?["):
        return sorted(p for p in paths.ROOT.glob(entry) if p.is_file())
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [target] if target.exists() else []


def chapter_fingerprints(book_dir: Path) -> dict[str, str]:
    """Fingerprint of each chapter's declared inputs (``book/chapter_deps.yml``).

    Returns
    -------
    dict
        Chapter path relative to the book -> sha256 over (path, content hash)
        of every declared input file.
    """
    deps_file = Path(book_dir) / "chapter_deps.yml"
    if not deps_file.exists():
        return {}
    deps = yaml.safe_load(deps_file.read_text(encoding="utf-8")) or {}
    out = {}
    for chapter, entries in sorted(deps.items()):
        h = hashlib.sha256()
        for entry in entries or []:
            for p in _expand(entry):
                h.update(p.relative_to(paths.ROOT).as_posix().encode())
                h.update(sha256(p).encode())
        out[chapter] = h.hexdigest()
    return out


def invalidate_changed_chapters(book_dir: Path) -> list[str]:
    """Remove the cached execution of chapters whose inputs changed; return them."""
    book_dir = Path(book_dir)
    build = book_dir / "_build"
    state_path = build / _STATE
    new = chapter_fingerprints(book_dir)
    old = json.loads(state_path.read_text()) if state_path.exists() else {}
    changed = [c for c, fp in new.items() if old.get(c) != fp]
    cache_dir = build / ".jupyter_cache"
    if changed and cache_dir.exists():
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
        targets = {str((book_dir / c).resolve()) for c in changed}
        for record in cache.list_cache_records():
            if str(Path(record.uri).resolve()) in targets:
                cache.remove_cache(record.pk)
    return changed


def _save_fingerprints(book_dir: Path) -> None:
    write_json(Path(book_dir) / "_build" / _STATE, chapter_fingerprints(book_dir))


def build_book(layout: paths.Layout = paths.DEFAULT) -> Path:
    """Build ``book/`` to HTML with warnings as errors; return the HTML folder.

    Raises
    ------
    RuntimeError
        If Jupyter Book reports an error or a warning (the execution reports
        are kept under ``book/_build/html/reports``).
    """
    book = layout.book
    changed = invalidate_changed_chapters(book)
    if changed:
        print(f"chapters to re-execute (inputs changed): {', '.join(changed)}")
    env = dict(os.environ)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    exe = Path(sys.executable).with_name("jupyter-book")
    # --all: Sphinx re-reads every page (it would skip a chapter whose .md is unchanged even when its
    # cached execution was dropped above); unchanged chapters still come from the execution cache.
    cmd = [str(exe), "build", str(book), "--all", "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, env=env, cwd=paths.ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"the book did not build cleanly ({' '.join(cmd)} exited {proc.returncode}); "
                           f"execution reports are under {layout.book_html / 'reports'}")
    _save_fingerprints(book)
    return layout.book_html
