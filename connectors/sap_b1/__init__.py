"""SAP Business One Service Layer (``/b1s/v1``): session cookies, re-login on expiry, OData paging."""

from .connector import SapB1Connector, SapSession, sap_error

__all__ = ["SapB1Connector", "SapSession", "sap_error"]
