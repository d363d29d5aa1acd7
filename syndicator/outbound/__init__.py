"""The one way to fetch a URL that came from content or from a remote answer: article images, WebSub hubs,
WordPress REST links, and redirects of anything.

Untrusted in, nothing out (DESIGN.md): a URL in a feed, a webhook body or a WordPress answer may point inside our
network (the cloud metadata service, a database's HTTP port, the worker's own /metrics), and whatever comes back
could end up attached to a public post. So for every hop:

1. the URL is http(s), carries no `user:password@`, and its host is a name or a canonical IP literal; a number
   spelled `2130706433`, `0x7f000001`, `0177.0.0.1` or `127.1` is refused outright, because parsers disagree on
   what such spellings mean;
2. the host is resolved once, and every address it resolves to must be globally routable (`address_problem`)
   unless the operator's allowlist names it (`[outbound] allow`); one inside address refuses the whole name;
3. the connection goes to the address that was checked (TLS still verifies the real host name, sent as SNI, and
   the Host header carries it), so a second DNS answer cannot move it (rebinding); no proxy from the environment;
4. a redirect is followed by hand, back to step 1, at most `max_redirects` times;
5. one wall-clock deadline covers resolution, connect, TLS, the request and every read: each socket operation
   waits at most for the time that is left, so a server dripping one byte a second is cut at the deadline;
6. the body is capped at `max_bytes`, and a 2xx answer must have a media type the caller accepts.

Failures are `OutboundError`s whose `reason` is one of:

    refused       the URL's address, scheme, userinfo or numeric spelling is not allowed (logged: outbound.refused)
    invalid_url   not a URL that can be fetched
    redirects     too many redirects, a loop, a Location that cannot be used, a body that would go to another host
    timeout       the deadline passed
    too_large     the body is bigger than `max_bytes`
    content_type  a 2xx whose media type the caller does not accept
    unreachable   DNS failure, connection refused or reset, TLS failure, the connection broke mid-answer
    bad_response  not a valid HTTP answer, or a body that cannot be decoded

Allowlist entries (the only way content may reach a private address): an address (`10.1.2.3`, `fd00::7`), a
network (`10.1.2.0/24`, `fd00::/8`), a host name (`cdn.internal`: whatever it resolves to), each optionally with
`:port` (`cdn.internal:8080`, `10.1.2.0/24:443`, `[fd00::7]:8080`). The operator's own URLs (feeds, `api_base`,
the WordPress site) do not need it: callers pass those hosts as `trusted`.
"""

from syndicator.outbound.rules import (
    Allowlist,
    AllowRule,
    Checked,
    OutboundError,
    Refused,
    address_problem,
    host_of,
    parse_rule,
    shown,
)
from syndicator.outbound.transport import (
    DEFAULT_MAX_REDIRECTS,
    MAX_ANSWER_BYTES,
    USER_AGENT,
    Fetched,
    OutboundGuard,
    Resolver,
)

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "MAX_ANSWER_BYTES",
    "USER_AGENT",
    "AllowRule",
    "Allowlist",
    "Checked",
    "Fetched",
    "OutboundError",
    "OutboundGuard",
    "Refused",
    "Resolver",
    "address_problem",
    "host_of",
    "parse_rule",
    "shown",
]
