"""A fake WhatsApp Cloud API: POST /vN/{phone_number_id}/messages and GET /vN/{phone_number_id}.

Checks the Bearer token and the message shape the Cloud API requires, records every request and message, and
answers like Meta does: `{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid…"}]}`.
Free text to a number in `window_closed` fails with 131047 (the 24-hour rule), as the real API does. Other
failures are scripted with the helpers (throughput 130429, pair rate 131056, 131047, token 190, any code).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.server import FakeServer, Request, Response

_VERSIONED = re.compile(r"^/(v\d+\.\d+)/(\d+)(/messages)?/?$")


def cloud_error(
    code: int,
    message: str,
    *,
    status: int = 400,
    details: str = "",
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Wa1b2c3"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error}, headers=dict(headers or {}))


class FakeWhatsApp(FakeServer):
    def __init__(
        self,
        *,
        phone_number_id: str = "106540352242922",
        token: str = "EAAW-TEST-not-a-real-token",
        verified_name: str = "Example News",
        quality_rating: str = "GREEN",
    ) -> None:
        super().__init__()
        self.phone_number_id = phone_number_id
        self.token = token
        self.verified_name = verified_name
        self.quality_rating = quality_rating
        self.messages: list[dict[str, Any]] = []
        self.window_closed: set[str] = set()
        self.usage: dict[str, int] | None = None  # when set: sent as X-Business-Use-Case-Usage
        self._next = 0

    # -- scripting -------------------------------------------------------------------------------------------

    def throughput(self) -> None:
        self.fail_next(
            cloud_error(
                130429,
                "(#130429) Rate limit hit",
                details="Cloud API message throughput has been reached.",
            )
        )

    def pair_rate(self) -> None:
        self.fail_next(
            cloud_error(
                131056,
                "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                details="Message failed to send because there were too many messages sent from this phone number "
                "to the same phone number in a short period of time.",
            )
        )

    def reengagement(self) -> None:
        self.fail_next(
            cloud_error(
                131047,
                "Re-engagement message",
                details="Message failed to send because more than 24 hours have passed since the customer last "
                "replied to this number.",
            )
        )

    def expire_token(self) -> None:
        self.fail_next(
            cloud_error(
                190,
                "Error validating access token: Session has expired on Tuesday, 24-Nov-26 10:00:00 PST.",
                status=401,
                subcode=463,
            )
        )

    def error(self, code: int, message: str = "error", *, status: int = 400, details: str = "") -> None:
        self.fail_next(cloud_error(code, message, status=status, details=details))

    # -- the API ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = _VERSIONED.match(request.path)
        if not match or match.group(2) != self.phone_number_id:
            return cloud_error(100, f"Unsupported {request.method} request. Object does not exist.", subcode=33)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return cloud_error(190, "Invalid OAuth access token - Cannot parse access token", status=401)
        if match.group(3) and request.method == "POST":
            return self._send(request)
        if not match.group(3) and request.method == "GET":
            fields = (request.query.get("fields") or [""])[-1].split(",")
            node = {
                "id": self.phone_number_id,
                "display_phone_number": "+1 555-010-0199",
                "verified_name": self.verified_name,
                "quality_rating": self.quality_rating,
            }
            return self._ok({k: v for k, v in node.items() if k == "id" or k in fields})
        return cloud_error(100, "Unsupported request")

    def _send(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return cloud_error(100, "(#100) Param messaging_product is required")
        body = request.json()
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return cloud_error(100, "(#100) The parameter messaging_product is required.")
        to = str(body.get("to", ""))
        if not to.isdigit():
            return cloud_error(100, "(#100) Invalid parameter", details="to must be a phone number")
        kind = body.get("type")
        if kind == "text":
            text = body.get("text") or {}
            if not isinstance(text, dict) or not text.get("body"):
                return cloud_error(100, "(#100) The parameter text['body'] is required.")
            if len(text["body"]) > 4096:
                return cloud_error(100, "(#100) Param text['body'] must be at most 4096 characters long.")
            if to in self.window_closed:
                return cloud_error(
                    131047,
                    "Re-engagement message",
                    details="Message failed to send because more than 24 hours have passed since the customer "
                    "last replied to this number.",
                )
        elif kind == "template":
            template = body.get("template") or {}
            if not template.get("name") or not (template.get("language") or {}).get("code"):
                return cloud_error(100, "(#100) The parameter template['name'] / ['language'] is required.")
            if template["name"] == "missing_template":
                return cloud_error(
                    132001,
                    "(#132001) Template name does not exist in the translation",
                    details=f"template name ({template['name']}) does not exist in {template['language']['code']}",
                )
        else:
            return cloud_error(131051, "(#131051) Unsupported message type")
        self._next += 1
        message_id = f"wamid.HBgL{self._next:08d}"
        self.messages.append({**body, "id": message_id})
        return self._ok(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": message_id, "message_status": "accepted"}],
            }
        )

    def _ok(self, body: dict[str, Any]) -> Response:
        headers = {}
        if self.usage is not None:
            headers["X-Business-Use-Case-Usage"] = json.dumps({"1029384756": [{"type": "whatsapp", **self.usage}]})
        return Response(200, body, headers=headers)
