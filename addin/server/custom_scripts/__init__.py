"""xlwings Server's ``custom_scripts`` module: the S&OP buttons (``sop_refresh``, ...) of :mod:`addin.officejs`."""

from addin.officejs import SCRIPTS

globals().update(SCRIPTS)
__all__ = sorted(SCRIPTS)
