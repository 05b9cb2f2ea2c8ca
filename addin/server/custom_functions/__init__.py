"""xlwings Server's ``custom_functions`` module: the SOP_ functions of :mod:`addin.officejs`."""

from addin.officejs import FUNCTIONS

globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS)
