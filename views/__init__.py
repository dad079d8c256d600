"""Page models: plain functions (reader, filters) → a dataclass of frames and figures, no Streamlit.

A page reads its filters, calls one function here and lays out components with what comes back; the command
line and the documents (exports/) call the same functions, so a figure is computed once for every place it shows.
A view reads through the reader it is given (data.security.access.Reader: every query access-checked as the
reader's principal; the dashboard's reader also caches by data version)."""
