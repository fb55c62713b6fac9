"""Nimbus bootstrap for the python3.x managed runtimes: ``python3 bootstrap.py``.

The runtime itself is the module ``_nimbus_runtime`` next to this file. A
script run as ``__main__`` is compiled from source at every start, while an
imported module is loaded from its cached bytecode: compiling the runtime took
more time than everything else it does before its first ``next`` request. So
this file only imports the module, letting the import system write its
``__pycache__`` entry (once per interpreter version) even though
``PYTHONDONTWRITEBYTECODE`` is set for user code, and hands over to it.
"""

import os
import sys


def _import_runtime():
    here = os.path.dirname(os.path.abspath(__file__))
    # `python3 bootstrap.py` put this directory first on sys.path (unless -P or
    # PYTHONSAFEPATH said not to); it serves this one import, then user code
    # resolves against the task root instead, as on AWS.
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    sys.path.insert(0, here)
    dont_write_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        import _nimbus_runtime
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
        if sys.path and sys.path[0] == here:
            del sys.path[0]
    return _nimbus_runtime


if __name__ == "__main__":
    _import_runtime().main()
