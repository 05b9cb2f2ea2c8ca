"""Run the SOP_ UDFs the way xlwings' COM server does, on Linux.

On Linux ``xw.func/arg/ret`` are no-ops and ``xlwings.udfs`` (the real decorators and ``call_udf``)
imports the Windows COM modules. :func:`load_real_udfs` imports ``xlwings.udfs`` with stand-in COM
modules (the decorators never touch COM), decorates a fresh copy of ``addin/udfs.py`` with the real
``xlfunc/xlarg/xlret`` and returns it; :func:`call_udf` then does what ``xlwings.udfs.call_udf`` does for
a synchronous, non-async UDF: missing arguments -> their defaults, each argument through
``xlwings.conversion.read`` with its ``__xlfunc__`` options, the result through
``xlwings.conversion.write`` with the return options. ``conversion`` needs an engine named ``excel``:
:func:`excel_engine` registers the in-memory engine under that name.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import xlwings as xw
from xlwings import conversion
from xlwings.main import Engine

from .xlwings_memory_engine import MemoryEngine

MISSING = -2147352572
"""What Excel passes for an omitted optional argument (``call_udf`` swaps in the Python default)."""
UDFS_FILE = Path(__file__).resolve().parent.parent / "addin" / "udfs.py"


def _com_stubs() -> dict[str, ModuleType]:
    pythoncom = ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None  # type: ignore[attr-defined]
    pythoncom.IID_IDispatch = None  # type: ignore[attr-defined]
    client = ModuleType("win32com.client")
    client.Dispatch = lambda *a, **k: None  # type: ignore[attr-defined]
    win32com = ModuleType("win32com")
    win32com.client = client  # type: ignore[attr-defined]
    return {
        "pythoncom": pythoncom,
        "pywintypes": ModuleType("pywintypes"),
        "win32com": win32com,
        "win32com.client": client,
    }


def real_xlwings_udfs() -> ModuleType:
    """The real ``xlwings.udfs`` module (BSD), imported with stand-in COM modules."""
    with mock.patch.dict(sys.modules, _com_stubs()):
        sys.modules.pop("xlwings.udfs", None)
        module = importlib.import_module("xlwings.udfs")
    return module


def load_real_udfs(xl_udfs: ModuleType | None = None) -> ModuleType:
    """A fresh copy of ``addin.udfs`` decorated by xlwings' real ``xlfunc/xlarg/xlret``."""
    real = xl_udfs or real_xlwings_udfs()
    spec = importlib.util.spec_from_file_location("addin.udfs", UDFS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with mock.patch.multiple(xw, func=real.xlfunc, arg=real.xlarg, ret=real.xlret):
        spec.loader.exec_module(module)
    return module


@contextmanager
def excel_engine() -> Iterator[MemoryEngine]:
    """Register the in-memory engine as ``excel`` (what the UDF conversion path asks for)."""
    engine = MemoryEngine("excel")
    wrapped = Engine(impl=engine)
    previous = xw.engines.engines_by_name.get("excel")
    xw.engines.add(wrapped)
    try:
        yield engine
    finally:
        xw.engines.engines.remove(wrapped)
        if previous is None:
            del xw.engines.engines_by_name["excel"]
        else:
            xw.engines.engines_by_name["excel"] = previous


def call_udf(func: Any, *args: Any) -> Any:
    """What ``xlwings.udfs.call_udf`` returns to Excel for ``func(*args)`` (values as Excel passes them)."""
    info = func.__xlfunc__
    args_info = info["args"]
    values = list(args) + [MISSING] * (len(args_info) - len(args))
    converted = []
    for i, arg in enumerate(values):
        arg_info = args_info[min(i, len(args_info) - 1)]
        if isinstance(arg, int) and arg == MISSING:
            converted.append(arg_info.get("optional", None))
        else:
            converted.append(conversion.read(None, arg, arg_info["options"]))
    result = func(*converted)
    return conversion.write(result, None, info["ret"]["options"])


def call_cell(func: Any, *args: Any) -> Any:
    """:func:`call_udf` for a single-cell function: what the cell shows (a scalar, or a 1 x 1 array's value)."""
    out = call_udf(func, *args)
    if isinstance(out, list):
        assert len(out) == 1 and len(out[0]) == 1, out
        return out[0][0]
    return out
