"""Every glued number names its file and key, one click or one hover away.

``analysis.study.booktools.Text`` glues a number together with a provenance
part (MIME type ``booktools.SOURCE_MIME``: the file relative to the
repository root, the key inside it, and whether the numbers appendix lists
it).  This extension replaces myst-nb's ``{glue:text}`` role with one that
pastes the same text (still ``<span class="pasted-text">``) inside

* a link to its row of the numbers appendix (``appendices/numbers``,
  anchor ``num-<key>``) with ``file · key`` as the link's title (the
  tooltip), for the numbers ``booktools.BOOK_NUMBERS`` declares;
* an ``<abbr>`` whose title is ``file · key`` for the others (counts read
  from the instrument or ``study.yaml``).

A glued text without a provenance part is pasted as myst-nb pastes it.
"""
from __future__ import annotations

from docutils import nodes
from myst_nb.core.variables import RetrievalError
from myst_nb.ext.glue.roles import PasteTextRole
from myst_nb.ext.glue.utils import retrieve_glue_data

from analysis.study.booktools import NUMBERS_PAGE, SOURCE_MIME


class SourcedPasteTextRole(PasteTextRole):
    """``{glue:text}`` that wraps the pasted text in a link or ``<abbr>`` naming its file and key."""

    def run(self):
        pasted, messages = super().run()
        if len(pasted) != 1 or not isinstance(pasted[0], nodes.inline) or "::" in self.text:
            return pasted, messages
        key = self.text.rsplit(":", 1)[0] if ":" in self.text else self.text
        try:
            source = retrieve_glue_data(self.document, key).data.get(SOURCE_MIME)
        except RetrievalError:
            return pasted, messages
        if not isinstance(source, dict) or not source.get("file"):
            return pasted, messages
        title = f"{source['file']} · {source.get('field', '')}".strip(" ·")
        if source.get("listed"):
            ref = nodes.reference("", "", pasted[0], refuri=f"#num-{key}", reftitle=title,
                                  classes=["glued-number"])
            ref["numbers_key"] = key
            return [ref], messages
        abbr = nodes.abbreviation("", "", pasted[0], explanation=title, classes=["glued-number"])
        return [abbr], messages


def _link_to_numbers_page(app, doctree, docname):
    """Point each glued number's link at its row of the numbers appendix (relative to this page)."""
    if app.builder.format != "html":
        return
    page = app.builder.get_relative_uri(docname, NUMBERS_PAGE)
    for ref in doctree.findall(nodes.reference):
        if "numbers_key" in ref.attributes:
            ref["refuri"] = f"{page}#num-{ref['numbers_key']}"


def setup(app):
    app.setup_extension("myst_nb")
    app.add_role_to_domain("glue", "text", SourcedPasteTextRole(), override=True)
    app.connect("doctree-resolved", _link_to_numbers_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
