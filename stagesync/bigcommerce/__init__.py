"""The one HTTP edge: the BigCommerce store API client, its paging and its batching.

Only this package (and the emulator) imports httpx; everything else uses ``stagesync.ports``.
"""

from stagesync.bigcommerce.client import DEFAULT_API_URL, BigCommerceClient, RateLimit
from stagesync.bigcommerce.paging import chunks

__all__ = ["DEFAULT_API_URL", "BigCommerceClient", "RateLimit", "chunks"]
