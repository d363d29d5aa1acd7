"""The rules of `syndicator.outbound` that need no network: which addresses are public, the operator's
allowlist (`[outbound] allow`), and how a URL is parsed and shown (steps 1 and 2 of the package docstring)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests.utils

_DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundError(Exception):
    """Why a fetch was not made or did not finish; `reason` is one of the module docstring's codes. The message
    names the host at most, never a query string, a body or a header."""

    def __init__(self, message: str, *, reason: str, url: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url  # as `shown()`: no userinfo, no query


class Refused(OutboundError):
    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message, reason="refused", url=url)


# -- which addresses are public ----------------------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# spelled out rather than left to `is_global`, whose answers changed between Python versions (multicast, for one)
_BLOCKED: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified ('this network') address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("100.64.0.0/10"), "a shared (CGNAT) address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address (cloud metadata lives there)"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.0.0.0/24"), "an IETF protocol address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("192.88.99.0/24"), "a 6to4 relay address"),
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("::/96"), "an IPv4-compatible IPv6 address (deprecated)"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("2001::/23"), "an IETF protocol address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("fc00::/7"), "a unique-local (private) address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address (deprecated)"),
    (_V6("ff00::/8"), "a multicast address"),
)
_NAT64 = _V6("64:ff9b::/96")


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public Internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(str(address).split("%", 1)[0])  # a scope id changes nothing
        mapped = address.ipv4_mapped
        if mapped is not None:
            inner = address_problem(mapped)
            return f"an IPv4-mapped form of {inner}" if inner else None
        # IPv6 forms that carry an IPv4 address: what counts is where they lead
        embedded: ipaddress.IPv4Address | None = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner:
                return f"a 6to4/NAT64 form of {inner}"
    for network, why in _BLOCKED:
        if address.version == network.version and address in network:
            return why
    if not address.is_global:
        return "not a globally routable address"
    if isinstance(address, ipaddress.IPv6Address) and address not in _V6("2000::/3") and address not in _NAT64:
        return "not a global unicast address"
    return None


def _plain(address: IPAddress) -> IPAddress:
    """The IPv4 address behind an IPv4-mapped IPv6 one, so `::ffff:10.1.2.3` meets the rules for `10.1.2.3`."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# -- the allowlist ------------------------------------------------------------------------------------------

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
# WHATWG URL: a host whose last label is a number is an IPv4 address, in whatever base it is written
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")


@dataclass(frozen=True)
class AllowRule:
    network: IPNetwork | None = None  # an address (as a /32 or /128) or a network
    host: str | None = None  # a lower-case host name without a trailing dot
    port: int | None = None  # None: any port

    def matches(self, host: str, address: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host
        return self.network is not None and address.version == self.network.version and address in self.network


def parse_rule(entry: str) -> AllowRule:
    """One `[outbound] allow` entry. Raises ValueError saying what is wrong (config.py names the key)."""
    text = entry.strip().lower()
    if not text:
        raise ValueError("empty entry")
    if "*" in text:
        raise ValueError("no wildcards: list each host name, or give a network such as 10.1.2.0/24")
    if text.startswith("["):
        inside, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError("expected [IPv6 address] or [IPv6 address]:port")
        network = _network(inside, must=True)
        if network.version != 6:
            raise ValueError("brackets are for IPv6 addresses")
        return AllowRule(network=network, port=_port(rest[1:]) if rest else None)
    if text.count(":") > 1:  # IPv6 without brackets: no port
        return AllowRule(network=_network(text, must=True))
    port: int | None = None
    if ":" in text:
        text, _, port_text = text.partition(":")
        port = _port(port_text)
    try:
        return AllowRule(network=_network(text), port=port)
    except _NotAnAddress:
        pass
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("not a valid host name") from None
    if not _HOST_NAME.fullmatch(text) or len(text) > 253:
        raise ValueError("expected an address, a network (10.1.2.0/24), a host name, or one of them with :port")
    if _NUMERIC_LABEL.fullmatch(text.rstrip(".").rsplit(".", 1)[-1]):
        raise ValueError("an IPv4 address must be written as four decimal numbers (10.1.2.3)")
    return AllowRule(host=text.rstrip("."), port=port)


class _NotAnAddress(ValueError):
    pass


def _network(text: str, *, must: bool = False) -> IPNetwork:
    """`text` as an address or network; _NotAnAddress when it is plainly a host name instead."""
    looks_numeric = "/" in text or ":" in text or re.fullmatch(r"[0-9.]+", text) is not None
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        # the entry itself is not quoted: configuration errors say what is wrong, not what the file holds
        if "host bits set" in str(exc):
            raise ValueError("a network has no bits set after its prefix (10.1.2.0/24, not 10.1.2.3/24)") from None
        if must or looks_numeric:
            raise ValueError("not a valid IP address or network (e.g. 10.1.2.3, 10.1.2.0/24, fd00::/8)") from None
        raise _NotAnAddress(text) from None
    if network.prefixlen == 0:
        raise ValueError("a /0 network would allow every address, which turns the guard off")
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_V6("::ffff:0:0/96")):
        raise ValueError("write the IPv4 address itself, not its IPv4-mapped IPv6 form")
    return network


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("the port must be a number from 1 to 65535")
    return int(text)


class Allowlist:
    """The operator's exceptions to 'public addresses only'."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.rules = tuple(parse_rule(entry) for entry in entries)

    def allows(self, host: str, address: IPAddress, port: int) -> bool:
        plain = _plain(address)
        return any(rule.matches(host, plain, port) for rule in self.rules)


# -- URLs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A URL that passed the checks, and the addresses the connection may go to (in the resolver's order)."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA), lower case, no brackets, no trailing dot
    port: int
    addresses: tuple[str, ...]
    target: str  # what goes on the request line: path and query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def shown(url: str) -> str:
    """A URL fit for messages and logs: no user:password@, no query (it may carry a token), no fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))[:300]


def host_of(url: str) -> str:
    """The URL's host as the guard compares it (lower case, ASCII, no trailing dot), or "" when there is none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return _ascii(host.rstrip(".").lower())


def _ascii(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@dataclass(frozen=True)
class _Parsed:
    url: str
    scheme: str
    host: str
    port: int
    literal: IPAddress | None
    target: str


def _parse(url: str) -> _Parsed:
    where = shown(url)
    if re.search(r"[\x00-\x1f\x7f]", url):
        raise OutboundError("the URL contains control characters", reason="invalid_url", url=where)
    try:
        parts = urlsplit(url.strip())
        port_given = parts.port
        # what a browser would send for a space or a non-ASCII letter in the path; the host is handled below
        path, query = requests.utils.requote_uri(parts.path), requests.utils.requote_uri(parts.query)
    except (ValueError, requests.exceptions.InvalidURL):
        raise OutboundError("not a valid URL", reason="invalid_url", url=where) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise Refused(f"only http and https URLs are fetched, not {scheme or 'a relative URL'}", url=where)
    if "@" in parts.netloc:
        raise Refused("a URL with user:password@ is not fetched", url=where)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundError("the URL has no host", reason="invalid_url", url=where)
    literal: IPAddress | None = None
    if parts.netloc.startswith("["):
        try:
            if "%" in host:
                raise ValueError("a zone id")
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise OutboundError("not a valid IPv6 address in brackets", reason="invalid_url", url=where) from None
    else:
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise OutboundError("not a valid host name", reason="invalid_url", url=where) from None
        host = host.lower()
        try:
            literal = ipaddress.IPv4Address(host)  # strict: four decimal numbers, no leading zeros
        except ValueError:
            if not _HOST_NAME.fullmatch(host) or len(host) > 253:
                raise OutboundError("not a valid host name", reason="invalid_url", url=where) from None
    port = port_given if port_given is not None else _DEFAULT_PORTS[scheme]
    if port == 0:
        raise OutboundError("port 0", reason="invalid_url", url=where)
    target = path or "/"
    if query:
        target += "?" + query
    clean = urlunsplit((scheme, parts.netloc, path, query, ""))
    return _Parsed(clean, scheme, host, port, literal, target)
