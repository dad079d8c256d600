"""Downloads: the one way a page offers a file.

Streamlit runs a download's ``data=`` callable when the button is clicked, in a server thread outside the script
run: ``st.session_state`` (and with it the signed-in principal) is not there, so a callable that asks the session
who is signed in (``cache.q``, ``auth_ui.principal``) fails and the user gets no file and no message.

``download_button(label, build, …)`` captures the principal while the page runs and calls ``build(principal)`` on
click: everything the build does is done as that principal, passed explicitly (``cache.q_as(who, …)``), never read
from the session. The file is built only when asked for, so nothing sits in Streamlit's media store
(``/media/<hash>``) before a deliberate click.
"""
from __future__ import annotations

import logging
from typing import Callable

import streamlit as st

from components.auth_ui import principal
from data.security.access import Principal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

_log = logging.getLogger(__name__)


def deferred(build: Callable[[Principal], bytes], who: Principal, what: str) -> Callable[[], bytes]:
    """A no-argument callable for Streamlit's ``data=`` that builds the file as ``who``."""

    def _data() -> bytes:
        try:
            return build(who)
        except Exception:  # logged without the data; Streamlit then reports a failed download to the browser
            _log.exception("download %r for %s failed", what, who.username)
            raise

    return _data


def download_button(label: str, build: Callable[[Principal], bytes], *, file_name: str, mime: str, key: str,
                    on_click="ignore", args=None, where=None, **kwargs) -> bool:
    """st.download_button whose file is ``build(principal)``, built when the button is clicked.

    on_click: "ignore" (a plain download changes nothing on screen: no rerun), or a callable run on the rerun
    that follows the click (e.g. to audit an export of personal data) with ``args``.
    where: a container (column, expander) to draw in; the page itself by default."""
    who = principal()
    target = where if where is not None else st
    return target.download_button(label, data=deferred(build, who, file_name), file_name=file_name, mime=mime,
                                  key=key, on_click=on_click, args=args, **kwargs)
