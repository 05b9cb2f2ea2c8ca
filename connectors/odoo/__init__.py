"""Odoo 17-19: JSON-RPC ``execute_kw`` (<= 18) or JSON-2 with an API key (19); see :mod:`.mapping`."""

from .api import Json2, JsonRpc, OdooApi, StaticKey, company_context, json2_error
from .connector import OdooConnector, tables

__all__ = ["Json2", "JsonRpc", "OdooApi", "OdooConnector", "StaticKey", "company_context", "json2_error", "tables"]
