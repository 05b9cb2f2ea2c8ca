"""The file connector: ERP exports (one CSV or xlsx file per entity in a folder) into a snapshot.

Documented format: ``<entity>.csv`` or ``<entity>.xlsx`` for each entity of
:data:`sop_functions.model.ENTITY_MODELS` (``items`` required, the rest optional), headers equal to
the canonical field names. ``mapping.toml`` adapts other exports; see :mod:`.mapping`.
"""

from .errors import FileDataError, FileIssue
from .mapping import EntityOptions, FolderMapping, load_mapping, parse_mapping
from .reader import read_export_folder

__all__ = [
    "EntityOptions",
    "FileDataError",
    "FileIssue",
    "FolderMapping",
    "load_mapping",
    "parse_mapping",
    "read_export_folder",
]
