"""WhatsApp Cloud API publisher (plain `requests`): one message to one opted-in recipient per delivery.

`POST /{version}/{phone_number_id}/messages` with `Authorization: Bearer <token>`. In "template" mode (the only way
to reach people who have not written to us in the last 24 hours) an approved template is sent with the post's
parameters; in "text" mode the post's text is sent as free text with a link preview.

There is no official API for WhatsApp Channels; this module does not pretend otherwise. `share_link()` gives the
wa.me draft link editors use to post to a Channel by hand. Messages cannot be deleted or edited through the Cloud
API. Pacing between recipients is the dispatcher's job (`settings.pace`); this module never sleeps. Errors are
classified by `syndicator.platforms.graph.to_publish_error` (the table is in its docstring).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import requests

from syndicator.article import Identity, Post, Receipt
from syndicator.errors import ConfigError, Permanent, PublishError, Transient
from syndicator.platforms.base import Publisher
from syndicator.platforms.delivery_doubt import answer_lost
from syndicator.platforms.graph import (
    GRAPH_URL,
    GraphFailure,
    Usage,
    install_log_redaction,
    parse_usage,
    redact,
    to_publish_error,
)
from syndicator.platforms.whatsapp.recipients import normalise_number
from syndicator.platforms.whatsapp.settings import WhatsAppSettings

if TYPE_CHECKING:
    from syndicator.config import TargetSettings

SHARE_URL = "https://wa.me/?text="
_VERSION = re.compile(r"^v\d+\.\d+$")
_PHONE_ID = re.compile(r"^\d+$")
_SPACES = re.compile(r"\s+")


def share_link(text: str) -> str:
    """A wa.me link that opens WhatsApp with `text` as a draft (for buttons and for posting to a Channel by hand)."""
    return SHARE_URL + quote(text, safe="")


class WhatsAppPublisher(Publisher):
    platform: ClassVar[str] = "whatsapp"
    supports_edit: ClassVar[bool] = False
    supports_delete: ClassVar[bool] = False

    def __init__(self, target: TargetSettings) -> None:
        super().__init__(target)
        self.settings, (token,) = self.configured(WhatsAppSettings, "token")
        where = f"targets.{target.name}"
        if not _VERSION.match(self.settings.graph_version):
            raise ConfigError(
                f"graph_version must look like 'v26.0', got {self.settings.graph_version!r}",
                key=f"{where}.graph_version",
            )
        if not _PHONE_ID.match(self.settings.phone_number_id):
            raise ConfigError("phone_number_id must be the numeric id Meta shows", key=f"{where}.phone_number_id")
        self._secrets = [token]
        self._timeout = max(target.timeout.total_seconds(), 0.001)
        self._base = (target.api_base or GRAPH_URL).rstrip("/")
        self._node = f"{self._base}/{self.settings.graph_version}/{self.settings.phone_number_id}"
        install_log_redaction()
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    async def publish(self, post: Post) -> Receipt:
        try:
            to = normalise_number(post.recipient)
        except ValueError as exc:
            raise Permanent(f"whatsapp publish: bad recipient: {exc}") from None
        body, usage = await self._run("publish", "POST", f"{self._node}/messages", json=self._payload(post, to))
        messages = body.get("messages") if isinstance(body, dict) else None
        first = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(first, dict) or not first.get("id"):
            raise Transient("whatsapp publish: the answer carried no message id", code="no_id")  # maybe sent
        extra: dict[str, Any] = {"to": to}
        if first.get("message_status"):
            extra["message_status"] = str(first["message_status"])
        return Receipt(remote_id=str(first["id"]), url=None, extra=extra, rate=usage.rate(_now()))

    async def delete(self, receipt: Receipt) -> None:
        raise Permanent(
            "whatsapp: messages cannot be deleted through the Cloud API; "
            "a sent message stays on the recipient's phone (send a correction instead)"
        )

    async def check(self) -> Identity:
        fields = "display_phone_number,verified_name,quality_rating"
        body, _ = await self._run("check", "GET", self._node, params={"fields": fields})
        info = body if isinstance(body, dict) else {}
        problems: list[str] = []
        quality = str(info.get("quality_rating") or "")
        if quality.upper() in ("RED", "YELLOW"):
            problems.append(f"quality rating is {quality}: Meta may lower the messaging limit or block the number")
        details = {
            "display_phone_number": info.get("display_phone_number"),
            "quality_rating": quality or None,
            "mode": self.settings.mode,
            "problems": problems,
        }
        name = str(info.get("verified_name") or info.get("display_phone_number") or self.settings.phone_number_id)
        return Identity(name=name, id=str(info.get("id") or self.settings.phone_number_id), details=details)

    async def aclose(self) -> None:
        self._session.close()

    # -- payloads ------------------------------------------------------------------------------------------

    def _payload(self, post: Post, to: str) -> dict[str, Any]:
        base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        if self.settings.mode == "text":
            if not post.text:
                raise Permanent("whatsapp publish: empty text")
            return {**base, "type": "text", "text": {"body": post.text, "preview_url": True}}
        spec = post.extra.get("template")
        spec = spec if isinstance(spec, Mapping) else {}
        name = str(spec.get("name") or self.settings.template)
        language = str(spec.get("language") or self.settings.template_language or post.extra.get("language") or "")
        if not name:
            raise Permanent("whatsapp publish: template mode but no template name")
        if not language:
            raise Permanent(
                'whatsapp publish: no template language: set template_language (e.g. "en_US") for this target'
            )
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        components: list[dict[str, Any]] = []
        if self.settings.template_header == "image":
            # an approved template with an image header is refused without its image (error 132012)
            if not post.image_url:
                raise Permanent("whatsapp publish: the template has an image header but the article has no image")
            image = {"type": "image", "image": {"link": post.image_url}}
            components.append({"type": "header", "parameters": [image]})
        parameters = spec.get("parameters") or []
        if parameters:
            components.append(
                {
                    "type": "body",
                    # template parameters may not contain newlines, tabs or runs of spaces (error 132018)
                    "parameters": [{"type": "text", "text": _SPACES.sub(" ", str(p)).strip()} for p in parameters],
                }
            )
        if components:
            template["components"] = components
        return {**base, "type": "template", "template": template}

    # -- plumbing ------------------------------------------------------------------------------------------

    async def _run(self, action: str, method: str, url: str, **kwargs: Any) -> tuple[Any, Usage]:
        guard = self._timeout * 2 + 1
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._call, action, method, url, kwargs), timeout=guard)
        except TimeoutError:
            failure = GraphFailure("whatsapp", action, network="timeout", message=f"no answer within {guard:.0f}s")
            raise to_publish_error(failure, _now()) from None

    def _call(self, action: str, method: str, url: str, kwargs: dict[str, Any]) -> tuple[Any, Usage]:
        """Runs in a worker thread: one HTTP call → (JSON body, usage), or the mapped PublishError."""
        failure: GraphFailure | None = None
        try:
            response = self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.ConnectTimeout:  # no connection was made: nothing can have been sent
            failure = GraphFailure("whatsapp", action, network="connection", message="connect timed out")
        except requests.Timeout:
            failure = GraphFailure("whatsapp", action, network="timeout", message=f"timed out ({self._timeout:g}s)")
        except requests.RequestException as exc:
            message = f"{type(exc).__name__}: {redact(str(exc), self._secrets)}"
            kind = "dropped" if answer_lost(exc) else "connection"
            failure = GraphFailure("whatsapp", action, network=kind, message=message)
        if failure is not None:
            raise to_publish_error(failure, _now())
        return self._read(action, response)

    def _read(self, action: str, response: requests.Response) -> tuple[Any, Usage]:
        headers = dict(response.headers)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        has_error = isinstance(body, dict) and "error" in body
        if response.status_code < 400 and isinstance(body, dict) and not has_error:
            return body, parse_usage(headers)
        if response.status_code < 400 and not has_error:
            failure = GraphFailure(
                "whatsapp", action, status=response.status_code, network="unreadable", message="unreadable answer"
            )
        else:
            failure = GraphFailure.from_body(
                body,
                platform="whatsapp",
                action=action,
                status=response.status_code,
                headers=headers,
                now=_now(),
                secrets=self._secrets,
            )
        error: PublishError = to_publish_error(failure, _now())
        raise error


def _now() -> datetime:
    return datetime.now(UTC)
