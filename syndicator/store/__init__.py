"""Everything durable: feeds' HTTP validators, articles, deliveries, attempts, limiter state.

The store knows no platform: callers hand it rendered posts as opaque JSON and it keeps the promises
"unique per (article, target, recipient, generation)" and "claimed under a lease".
"""

from syndicator.store import desk as _desk  # noqa: F401  # the editors' desk's tables join tables.metadata
from syndicator.store.engine import Store

__all__ = ["Store"]
