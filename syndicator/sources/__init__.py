"""Sources turn the outside world into `Article`s.

`feed` (fetch + parse RSS/Atom/JSON Feed), `urls` (canonical URLs and dedupe keys). This package imports nothing
eagerly, so `from syndicator.sources.urls import canonical_url` (e.g. in `render`) pulls in no network code.
"""
