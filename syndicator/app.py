"""The composition root shared by the CLI and the worker: configuration, store, governor, publishers, clock — and
the services built from them (`dispatcher()`), each handed exactly the parts it uses."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syndicator.clock import Clock, utcnow
from syndicator.config import Config, TargetSettings
from syndicator.governor import Governor
from syndicator.logs import redactor
from syndicator.outbound import OutboundGuard
from syndicator.platforms.base import Publisher, make_publisher
from syndicator.store import Store

if TYPE_CHECKING:
    import random

    from syndicator.dispatch import Dispatcher


@dataclass
class App:
    config: Config
    store: Store
    clock: Clock = utcnow
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    _publishers: dict[str, Publisher] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.governor = Governor(self.config.targets)
        # every fetch of a URL from content or from a remote answer goes through this one guard
        self.outbound = OutboundGuard(self.config.outbound.allow)
        for target in self.config.targets.values():
            redactor.add(target.secrets.values())
        if self.config.webhook:
            redactor.add([self.config.webhook.secret])

    @classmethod
    def open(cls, config: Config, *, clock: Clock = utcnow) -> App:
        return cls(config, Store(config.store.url), clock)

    def dispatcher(self, *, rng: random.Random | None = None, batch: int = 50) -> Dispatcher:
        """The one dispatcher of this process (a worker's, or a one-shot poll's), wired to this app's parts."""
        # imported here: the read-only commands (status, history) build an App and never load the send path
        from syndicator.dispatch import Dispatcher

        return Dispatcher(
            self.store, targets=self.config.targets, feeds=self.config.feeds, governor=self.governor,
            publisher=self.publisher, worker_id=self.worker_id, clock=self.clock, rng=rng, batch=batch,
        )  # fmt: skip

    def prepare_publishers(self) -> None:
        """Build every publisher now, so a bad platform setting stops start-up (exit 2), not a delivery later."""
        for target in self.config.targets.values():
            self.publisher(target)

    def publisher(self, target: TargetSettings) -> Publisher:
        if target.name not in self._publishers:
            self._publishers[target.name] = make_publisher(target, outbound=self.outbound)
        return self._publishers[target.name]

    async def aclose(self) -> None:
        for publisher in self._publishers.values():
            await publisher.aclose()
        self._publishers.clear()
        self.store.close()
