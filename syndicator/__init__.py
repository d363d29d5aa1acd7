"""Syndicator: a news publisher's articles, shaped for each social platform, posted once."""

__version__ = "0.1.0"
