"""The SOP_ functions and the S&OP buttons for Excel on the web and on Mac, served by xlwings Server.

Opt-in (``pip install sopxl[server]``, ``sop addin serve``) and **not BSD**: xlwings Server and xlwings'
``pro`` modules are free for noncommercial use only (PolyForm Noncommercial,
``XLWINGS_LICENSE_KEY=noncommercial``); commercial use needs a paid xlwings licence. The classic add-in
never imports this module and never needs a key.

Nothing is declared twice: :data:`FUNCTIONS` declares every classic UDF of :mod:`addin.udfs` to xlwings
Server with the same name, arguments, docs and converters (from :mod:`addin.udf_spec`), and
:data:`SCRIPTS` turns every ribbon action of :mod:`addin.ribbon` into a script ``sop_<button tag>`` that
the task pane's buttons call. Office.js applies a script's writes only after it returns, all at once, so
a failing action sends none of them: the workbook is never left half-written.

Freshness on this path: one server process runs both the scripts and the functions, so they share one
:class:`~addin.plan_cache.PlanCache`. Refresh and Recompute store the new plan and end with a full
recalculation (Office.js ``calculate(full)``), so every SOP_ formula is evaluated again against it. The
argument that VBA fills in classic Excel (``stamp``) is an ordinary optional last argument here. Left
out, it is the newest plan of the *calling workbook* (Office.js sends the workbook name with every call),
so one server serves several workbooks without mixing their plans. Passing the Settings ``refreshed_at``
cell instead pins the formula to exactly that refresh and makes Excel recalculate it when the stamp
changes (needed with several server workers, which do not share memory).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import xlwings as xw
import xlwings.server as xlserver
from xlwings.server import Caller

from . import ribbon, udfs
from .plan_cache import STAMP_SEPARATOR
from .udf_spec import spec_of

SCRIPT_PREFIX = "sop_"
SERVER_STAMP_DOC = "Optional: the workbook's Settings refreshed_at cell, to use that refresh's plan"
CLASSIC_ONLY_RETURN_CONVERTERS = {udfs.RAW}
"""``raw`` returns a bare scalar, which COM accepts; Office.js custom functions must return a 2-D array,
which xlwings' default converter makes, so single-cell results use the default converter here."""


def _with_workbook_stamp(args: list[Any], position: int, default: Any, caller: Caller | None) -> list[Any]:
    """Fill an omitted ``stamp`` with the newest plan of the calling workbook (Office.js names it).

    So a server shared by several workbooks never answers one workbook's formula from another's plan; after
    a restart the newest stored plan of that workbook is used; a workbook never refreshed through this
    server gets "#SOP! ... not been refreshed yet".
    """
    values = list(args)
    if len(values) > position and values[position] not in (None, "", default):
        return values
    if caller is None or not caller.book_name:
        return values
    values += [default] * (position + 1 - len(values))
    values[position] = udfs.CACHE.latest_stamp(caller.book_name) or f"{caller.book_name}{STAMP_SEPARATOR}"
    return values


def server_function(udf: Callable[..., Any]) -> Callable[..., Any]:
    """The xlwings Server declaration of a classic SOP_ function (same name, signature, docs, converters)."""
    spec = spec_of(udf)
    classic = inspect.signature(udf)
    names = list(classic.parameters)
    stamp = next((a.name for a in spec.args.values() if a.vba), None)
    position = names.index(stamp) if stamp else -1
    default = classic.parameters[stamp].default if stamp else None

    def function(*args: Any, caller: Caller | None = None) -> Any:
        return udf(*(_with_workbook_stamp(list(args), position, default, caller) if stamp else args))

    function.__name__ = function.__qualname__ = udf.__name__
    function.__doc__ = udf.__doc__
    function.__annotations__ = {"caller": Caller | None}  # injected by xlwings Server, never typed in Excel
    parameters = [p.replace(annotation=inspect.Parameter.empty) for p in classic.parameters.values()]
    injected = inspect.Parameter("caller", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Caller | None)
    function.__signature__ = classic.replace(  # type: ignore[attr-defined]
        parameters=[*parameters, injected], return_annotation=inspect.Signature.empty
    )
    declared: Callable[..., Any] = function
    for argument in spec.args.values():
        doc = SERVER_STAMP_DOC if argument.vba else argument.doc
        declared = xlserver.arg(argument.name, argument.convert, doc=doc, **argument.options)(declared)
    convert = None if spec.ret_convert in CLASSIC_ONLY_RETURN_CONVERTERS else spec.ret_convert
    declared = xlserver.ret(convert, **spec.ret_options)(declared)
    return xlserver.func(declared)


def server_script(tag: str, action: ribbon.Action) -> Callable[..., Any]:
    """An xlwings Server script running one ribbon action on the calling workbook."""

    def run_action(book: xw.Book) -> None:
        actions: list[Any] = book.json()["actions"]
        before = len(actions)
        outcome = ribbon.perform(tag, book)
        if not outcome.ok:  # Office.js would apply every write queued before the failure: drop them
            del actions[before:]
        book.app.alert(outcome.message, title=ribbon.TITLE)

    run_action.__name__ = run_action.__qualname__ = SCRIPT_PREFIX + tag
    run_action.__doc__ = action.run.__doc__
    return xlserver.script(name=action.label)(run_action)


def _fail_pyodide_imports_fast() -> None:
    """xlwings' ``js_to_none`` tries ``from pyodide.ffi import JsNull`` for every argument of every call;
    outside the browser that failed import searches all of ``sys.path`` each time (~75 % of a call's
    Python cost, bench/officejs_speed.py). A ``None`` entry in ``sys.modules`` makes it fail at once."""
    if sys.platform != "emscripten":
        sys.modules.setdefault("pyodide", None)  # type: ignore[arg-type]


def _share_plans() -> None:
    """Scripts and functions run in this one process: the functions read the plans the scripts publish."""
    udfs.CACHE = ribbon.CACHE


_fail_pyodide_imports_fast()
_share_plans()
FUNCTIONS: dict[str, Callable[..., Any]] = {udf.__name__: server_function(udf) for udf in udfs.UDFS}
SCRIPTS: dict[str, Callable[..., Any]] = {
    SCRIPT_PREFIX + tag: server_script(tag, action) for tag, action in ribbon.ACTIONS.items()
}
