"""functions/ stays pure (issue 13 item 10): no module of yibao.functions
imports xlwings or pandas, at import or when the Excel functions run; the
xlwings decorators live in the Excel shell, yibao.addin.udfs."""
from __future__ import annotations

import subprocess
import sys
import textwrap

#: run in a fresh interpreter where importing xlwings, pandas or numpy fails loudly
_BLOCKED_RUN = textwrap.dedent("""
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = ("xlwings", "pandas", "numpy", "pywintypes", "pythoncom", "win32com")
    tried = []

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                tried.append(name)
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import yibao.functions as functions
    names = [m.name for m in pkgutil.walk_packages(functions.__path__, "yibao.functions.")]
    for name in names:
        importlib.import_module(name)
    from yibao.functions import udf
    # every Excel function runs on a cell and on a column without them
    ID = "430999195001010213"
    for spec in udf.REGISTRY.values():
        spec.func(ID)
        spec.func([[ID], ["#N/A"], [None]])
    print(len(names), "modules")
    print("tried:", sorted(set(tried)))
""")


def test_every_functions_module_imports_and_runs_without_xlwings_or_pandas(user_home):
    proc = subprocess.run([sys.executable, "-c", _BLOCKED_RUN], capture_output=True, text=True,
                          encoding="utf-8", timeout=120,
                          env={**__import__("os").environ, "YIBAO_POLICY": "shili-2026"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert int(lines[0].split()[0]) >= 10          # idno, values, identity, plan, engine, person, udf, ...
    assert lines[1] == "tried: []", lines[1]       # nothing even tried to import them


def test_no_functions_source_names_xlwings_or_pandas_in_an_import():
    from pathlib import Path

    import yibao.functions as functions
    for path in Path(functions.__path__[0]).rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            code = line.split("#")[0].strip()
            if code.startswith(("import ", "from ")):
                assert "xlwings" not in code and "pandas" not in code, (path.name, line)
