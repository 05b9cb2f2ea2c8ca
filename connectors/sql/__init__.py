"""SQL: the user's own parameterised queries, one per entity, through SQLAlchemy Core; see :mod:`.connector`."""

from .connector import PARAMETERS, SqlConnector, parse_queries

__all__ = ["PARAMETERS", "SqlConnector", "parse_queries"]
