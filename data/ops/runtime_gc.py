"""Keep Python's garbage collector off the libraries the server has imported (gc.freeze).

With pandas, geopandas, shapely, altair, folium and SQLAlchemy loaded, the interpreter tracks about 180,000
objects that live as long as the process (modules, classes, functions, constants). Every full (generation-2)
collection walks all of them: about 0.09 s with the interpreter lock held on this 2-core machine, landing in
whichever page run or file request happens to be allocating at that moment (measured: a warm rerun of 救助发放
took 0.13 s or 0.26 s depending on whether such a collection fell into it). ``gc.freeze()`` moves every object
alive now into a permanent generation that collections skip; after it a full collection takes milliseconds.

``freeze_new_imports()`` is called at the end of every run of app.py. It freezes only when the run imported modules
that no earlier freeze saw (in practice the first visits of each kind of page after a start), so it happens a
handful of times per process. Before freezing it collects the young generations, so the garbage of the run is
freed rather than frozen; what is frozen is never collected as a cycle, which is why freezing is kept this rare.
"""
from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_modules_seen = 0


def freeze_new_imports() -> bool:
    """Freeze the objects alive now if modules were imported since the last freeze; True if it froze."""
    global _modules_seen
    if len(sys.modules) <= _modules_seen:
        return False
    with _lock:
        n = len(sys.modules)
        if n <= _modules_seen:
            return False
        gc.collect(1)  # the young generations: this run's cyclic garbage is freed, not frozen (milliseconds)
        gc.freeze()
        _modules_seen = n
    return True
