"""A fake Bluesky PDS on 127.0.0.1 that validates like the real one: XRPC sessions (createSession, refreshSession,
getSession) with JWT-shaped tokens the SDK can read, uploadBlob (≤ 1,000,000 bytes), createRecord / deleteRecord of
`app.bsky.feed.post` with the lexicon's limits (text ≤ 300 graphemes — counted by the `regex` module's UAX #29
`\\X`, not by the code under test — and ≤ 3,000 UTF-8 bytes, `createdAt`, ≤ 3 `langs`) and strict facets: byte
offsets inside the text, on character boundaries, a link facet covering exactly its URI, a tag facet exactly its
`#tag` (≤ 64 graphemes), thumbs that were uploaded. Answers carry `ratelimit-*` headers; `fail_next` scripts
failures.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import regex

from tests.fakes.server import FakeServer, Request, Response

PASSWORD = "TEST-not-real-app-pass"
DID = "did:plc:testnotreal0000000000"
HANDLE = "newsroom.test"
POST = "app.bsky.feed.post"


def grapheme_count(text: str) -> int:
    return len(regex.findall(r"\X", text))


def jwt(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(payload)}.TEST-not-real-signature"


def error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"error": name, "message": message}, headers=headers or {})


@dataclass
class Stored:
    rkey: str
    record: dict[str, Any]
    cid: str


@dataclass
class FakeBluesky(FakeServer):
    access_ttl: float = 7200.0  # seconds of the access tokens it issues (negative: born expired, the SDK refreshes)
    posts: dict[str, Stored] = field(default_factory=dict)
    blobs: dict[str, tuple[str, int]] = field(default_factory=dict)  # cid → (mime type, size)
    logins: int = 0
    refreshes: int = 0
    rate_remaining: int = 4997

    def __post_init__(self) -> None:
        FakeServer.__init__(self)
        self._serial = itertools.count(1)
        self._access: set[str] = set()
        self._refresh: set[str] = set()

    # -- controls ------------------------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every token it issued stops working (the session is gone: only createSession helps)."""
        self._access.clear()
        self._refresh.clear()

    def texts(self) -> list[str]:
        return [p.record["text"] for p in self.posts.values()]

    def calls(self, nsid: str) -> list[Request]:
        return [r for r in self.requests if r.path == f"/xrpc/{nsid}"]

    # -- the PDS -------------------------------------------------------------------------------------------

    def _tokens(self) -> dict[str, str]:
        n = next(self._serial)
        now = int(time.time())
        access = jwt({"scope": "com.atproto.appPass", "sub": DID, "iat": now, "exp": int(now + self.access_ttl),
                      "jti": f"a{n}"})  # fmt: skip
        refresh = jwt({"scope": "com.atproto.refresh", "sub": DID, "iat": now, "exp": now + 90 * 86400, "jti": f"r{n}"})
        self._access.add(access)
        self._refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh}

    def _session(self) -> dict[str, Any]:
        return {
            **self._tokens(),
            "handle": HANDLE,
            "did": DID,
            "active": True,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": DID,
                "alsoKnownAs": [f"at://{HANDLE}"],
                "verificationMethod": [],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.url}],
            },
        }

    def _headers(self) -> dict[str, str]:
        self.rate_remaining = max(self.rate_remaining - 3, 0)
        return {"RateLimit-Limit": "5000", "RateLimit-Remaining": str(self.rate_remaining),
                "RateLimit-Reset": str(int(time.time()) + 3600), "RateLimit-Policy": "5000;w=3600"}  # fmt: skip

    def _bearer(self, request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    def handle(self, request: Request) -> Response:
        nsid = request.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            body = request.json() or {}
            if body.get("password") != PASSWORD or body.get("identifier") not in (HANDLE, DID):
                return error(401, "AuthenticationRequired", "Invalid identifier or password")
            self.logins += 1
            return Response(200, self._session())
        if nsid == "com.atproto.server.refreshSession":
            token = self._bearer(request)
            if token not in self._refresh:
                return error(400, "ExpiredToken", "Token has been revoked")
            self._refresh.discard(token)
            self.refreshes += 1
            return Response(200, self._session())
        token = self._bearer(request)
        if token not in self._access:
            if not token:
                return error(401, "AuthenticationRequired", "Authentication Required")
            return error(400, "ExpiredToken", "Token has expired")
        if nsid == "com.atproto.server.getSession":
            return Response(200, {"handle": HANDLE, "did": DID, "active": True}, headers=self._headers())
        if nsid == "com.atproto.repo.uploadBlob":
            if len(request.body) > 1_000_000:
                return error(
                    400, "BlobTooLarge", "This file is too large. It is 1.2MB but the maximum size is 976.56KB."
                )
            cid = "bafkrei" + hashlib.sha256(request.body).hexdigest()[:40]
            mime = request.headers.get("content-type", "")
            self.blobs[cid] = (mime, len(request.body))
            blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(request.body)}
            return Response(200, {"blob": blob}, headers=self._headers())
        if nsid == "com.atproto.repo.createRecord":
            return self._create(request.json() or {})
        if nsid == "com.atproto.repo.deleteRecord":
            body = request.json() or {}
            self.posts.pop(str(body.get("rkey")), None)  # deleting what is gone succeeds
            return Response(200, {}, headers=self._headers())
        return error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")

    def _create(self, body: dict[str, Any]) -> Response:
        if body.get("repo") not in (DID, HANDLE) or body.get("collection") != POST:
            return error(400, "InvalidRequest", "Input/repo or collection is wrong")
        record = body.get("record") or {}
        problem = self.invalid(record)
        if problem:
            return error(400, "InvalidRecord", f"Invalid app.bsky.feed.post record: {problem}")
        rkey = f"3k{next(self._serial):011d}"
        cid = "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:40]
        self.posts[rkey] = Stored(rkey, record, cid)
        return Response(200, {"uri": f"at://{DID}/{POST}/{rkey}", "cid": cid}, headers=self._headers())

    def invalid(self, record: dict[str, Any]) -> str:
        """Why the PDS (or the app view, for facets) would refuse `record`; "" when it takes it."""
        text = record.get("text")
        if record.get("$type") != POST or not isinstance(text, str):
            return "Record/$type and Record/text are required"
        if not record.get("createdAt"):
            return 'Record must have the property "createdAt"'
        if grapheme_count(text) > 300:
            return "Record/text must not be longer than 300 graphemes"
        data = text.encode("utf-8")
        if len(data) > 3000:
            return "Record/text must not be longer than 3000 characters"
        langs = record.get("langs") or []
        if len(langs) > 3:
            return "Record/langs must not have more than 3 elements"
        for facet in record.get("facets") or []:
            problem = self._invalid_facet(facet, data)
            if problem:
                return problem
        external = (record.get("embed") or {}).get("external")
        if external is not None:
            if not external.get("uri") or "title" not in external or "description" not in external:
                return "Record/embed/external must have uri, title and description"
            thumb = external.get("thumb")
            if thumb is not None and thumb.get("ref", {}).get("$link") not in self.blobs:
                return "Record/embed/external/thumb is a blob that was never uploaded"
        return ""

    @staticmethod
    def _invalid_facet(facet: dict[str, Any], data: bytes) -> str:
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(data):
            return f"facet index {index} is outside the text's {len(data)} bytes"
        try:
            covered = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            return f"facet index {index} cuts a character (offsets must be UTF-8 bytes)"
        for feature in facet.get("features") or []:
            kind = feature.get("$type")
            if kind == "app.bsky.richtext.facet#link" and covered != feature.get("uri"):
                return f"link facet covers {covered!r}, not its uri {feature.get('uri')!r}"
            if kind == "app.bsky.richtext.facet#tag":
                tag = feature.get("tag") or ""
                if covered not in (f"#{tag}", f"＃{tag}") or grapheme_count(tag) > 64:
                    return f"tag facet covers {covered!r}, not #{tag}"
        return ""
