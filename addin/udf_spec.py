"""Declare a SOP_ worksheet function once, for classic Excel and for xlwings Server alike.

``func``/``arg``/``ret`` here are thin wrappers of ``xw.func``/``xw.arg``/``xw.ret``: they apply xlwings'
classic decorators (which on Windows record the ``__xlfunc__`` options "Import Functions" reads, and on
Linux/macOS are no-ops) and also keep the same options on the function as a :class:`UdfSpec`. That
portable record is what :mod:`addin.officejs` declares to xlwings Server, so the Office.js functions
never repeat a name, an argument, a doc string or a converter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import xlwings as xw

F = TypeVar("F", bound=Callable[..., Any])
SPEC_ATTRIBUTE = "__sopxl_udf__"


@dataclass
class ArgSpec:
    name: str
    convert: Any = None
    doc: str = ""
    vba: str | None = None
    """A VBA expression that fills the argument in classic Excel (the user never types it)."""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class UdfSpec:
    category: str = ""
    args: dict[str, ArgSpec] = field(default_factory=dict)
    ret_convert: Any = None
    ret_options: dict[str, Any] = field(default_factory=dict)


def spec_of(function: Callable[..., Any]) -> UdfSpec:
    """The recorded declaration of a SOP_ function (empty for an undecorated one)."""
    spec = getattr(function, SPEC_ATTRIBUTE, None)
    if spec is None:
        spec = UdfSpec()
        setattr(function, SPEC_ATTRIBUTE, spec)
    return spec


def func(category: str) -> Callable[[F], F]:
    """``@xw.func(category=...)``, recorded."""

    def decorate(function: F) -> F:
        spec_of(function).category = category
        return xw.func(category=category)(function)

    return decorate


def arg(name: str, convert: Any = None, *, doc: str = "", vba: str | None = None, **options: Any) -> Callable[[F], F]:
    """``@xw.arg(name, convert, doc=..., vba=..., **options)``, recorded."""

    def decorate(function: F) -> F:
        spec_of(function).args[name] = ArgSpec(name, convert, doc, vba, dict(options))
        classic: dict[str, Any] = dict(options, doc=doc)
        if vba is not None:
            classic["vba"] = vba
        return xw.arg(name, convert, **classic)(function)

    return decorate


def ret(convert: Any = None, **options: Any) -> Callable[[F], F]:
    """``@xw.ret(convert, **options)``, recorded."""

    def decorate(function: F) -> F:
        spec = spec_of(function)
        spec.ret_convert, spec.ret_options = convert, dict(options)
        return xw.ret(convert, **options)(function)

    return decorate
