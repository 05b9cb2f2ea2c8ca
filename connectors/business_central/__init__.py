"""Microsoft Dynamics 365 Business Central, API v2.0 with OAuth2 client credentials; see :mod:`.connector`."""

from .connector import STANDARD_GAPS, BusinessCentralConnector, CustomPage, bc_error, parse_custom_pages

__all__ = ["STANDARD_GAPS", "BusinessCentralConnector", "CustomPage", "bc_error", "parse_custom_pages"]
