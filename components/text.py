"""User text on the screen: the one escaper.

Anything a user typed or imported (finding notes and descriptions, facility, room and place names, scenario names,
file names, 冻结人, display names, messages quoting a cell) reaches the screen through one of these, never raw:

* ``md(text)`` — for a Markdown element (st.markdown, st.caption, st.write of a string, st.info/success/warning/
  error, widget labels): every character that can open Markdown, HTML, LaTeX or a Streamlit directive is
  backslash-escaped (CommonMark allows it for all ASCII punctuation), and so are the ones that make a list or a
  heading at the start of a line. An autolink (``http://…``, ``www.…``, ``a@b.cn``) is found by Streamlit's
  Markdown (remark-gfm) in the text *after* escapes are resolved, so an escape cannot stop it: an invisible WORD
  JOINER (U+2060) goes before ``://``, after ``www`` and before ``@`` instead. No emphasis, heading, list, link
  ``[点此查看](http://…)``, autolink (``http://…``, ``www.…``, ``a@b.cn``), HTML tag, ``$…$`` or ``:red[…]`` can
  form: the text shows as typed (with the invisible joiners). Plain punctuation inside words (GCJ-02, 文件.xlsx,
  12:30) is left as it is. Line breaks are kept as line breaks.
* ``html_text(text)`` — for HTML built by the app (st.html, map popups): ``& < > " '`` escaped.
"""
from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*{}\[\]()#+!|<>~$@&=^\"]|(?<![^\W_])_|_(?![^\W_]))")  # escaped wherever they are, but
# an underscore inside a word (t_office), which CommonMark never takes for emphasis
JOINER = "\u2060"                                             # WORD JOINER: zero width, no line break
_AUTOLINK = re.compile(r"(?i)(?=://)|(?<=www)(?=\.)|(?=\\@)")   # before ://, between www and ., before \@
_LINE_START = re.compile(r"(?m)^([ \t]*)(?:(\d+)([.)])|([-:]))")  # 1. / 1) / - / : (definition) at a line start
_NEWLINES = re.compile(r"\r\n|\r|\n")


def _line_start(g: re.Match) -> str:
    indent, number, mark, other = g.groups()
    return indent + (f"{number}\\{mark}" if number else "\\" + other)


def md(text) -> str:
    """``text`` for a Markdown element, shown literally (see the module docstring); None → ""."""
    if text is None:
        return ""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text))
    escaped = _AUTOLINK.sub(JOINER, escaped)
    escaped = _LINE_START.sub(_line_start, escaped)
    return _NEWLINES.sub("  \n", escaped)  # a hard line break, not a paragraph or a list


def html_text(text) -> str:
    """``text`` for HTML, shown literally; None → ""."""
    return "" if text is None else html.escape(str(text), quote=True)
