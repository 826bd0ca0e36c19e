"""Topic creation, so partition counts are ours and not the broker's auto-create defaults."""

from __future__ import annotations

import contextlib

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from phoneunify.settings import Settings
from schema.topics import Topics


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create every phoneunify topic that does not exist yet; returns the names created."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        client_id="phoneunify-admin",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        existing = set(admin.list_topics())
        wanted = [name for name in Topics(settings.topic_prefix).all if name not in existing]
        if not wanted:
            return []
        new = [
            NewTopic(name, num_partitions=settings.topic_partitions, replication_factor=1) for name in wanted
        ]
        # Another process may create the same topics at the same moment: that is fine.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(new, timeout_ms=int(timeout_s * 1000))
        return wanted
    finally:
        admin.close()
