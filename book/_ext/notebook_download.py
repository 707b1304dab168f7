"""Offer each chapter as a downloadable, executed Jupyter notebook (.ipynb).

sphinx-book-theme only copies the executed notebook of a MyST markdown page
into ``_sources/`` when a launch service (Binder, JupyterHub, Colab, Thebe)
is configured.  This book has launch buttons off (it builds and reads
offline), so this extension does that copy itself and sets
``ipynb_source``; the theme's download menu (``use_download_button``) then
shows ".ipynb" beside ".md" and ".pdf".
"""
from __future__ import annotations

from pathlib import Path
from shutil import copy2


def _add_notebook(app, pagename, templatename, context, doctree):
    if "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", _add_notebook, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
