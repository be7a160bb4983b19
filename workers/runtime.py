"""What the actors work with: settings, the database, the directory, the broker and the channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

from minqing.directory import load_configured_directory
from minqing.settings import Settings
from schemas.messages import language

log = logging.getLogger("minqing.workers")


@dataclass
class Runtime:
    settings: Settings
    broker: object
    directory: object = None
    channels: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.directory is None:
            self.directory = load_configured_directory(self.settings)
        if not self.channels:
            from workers.channels import make_channels

            self.channels = make_channels(self.settings)

    @property
    def lang(self) -> str:
        """The language of the messages staff get: "zh-CN" or "en"."""
        return language(self.settings.default_lang)

    @cached_property
    def in_process_channels(self) -> frozenset[str]:
        return frozenset(name for name, channel in self.channels.items() if channel.in_process)

    @cached_property
    def attachments(self):
        from minqing.attachments import make_store

        return make_store(self.settings)

    @cached_property
    def engine(self):
        from minqing.store.engine import make_engine

        return make_engine(self.settings.database_url, pool_size=self.settings.worker_threads + 2, pre_ping=False)

    @cached_property
    def autocommit(self):
        """The same pool, each statement its own transaction: for the one-statement steps of a delivery,
        where BEGIN and COMMIT would be two more round trips than the work itself."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @cached_property
    def breaker(self):
        from workers.channels.breaker import Breaker

        return Breaker(self.settings.channel_break_after, self.settings.channel_break_s)

    @cached_property
    def rate_backend(self):
        from workers.rate_limits import make_backend

        return make_backend(self.settings, self.broker)

