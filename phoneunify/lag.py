"""Consumer lag of every phoneunify stage, as Prometheus metrics.

    phoneunify_consumer_lag_records{group, stage, topic}   records not yet committed by the group
    phoneunify_consumer_lag_updated_seconds                when the figures were last read

The groups are phoneunify's own: the workers' (the worker id, and the worker id followed by the
stages a process runs, as faust names them) and the timeline writer's. Their committed offsets
are read with Kafka's admin API against the topics' end offsets, so no stage's code has to report
anything, and a stage that stopped (the very case worth an alert) is still measured.

A thread reads them every `interval_s`; a scrape returns the last reading at once and never
waits for Kafka. The API process serves them on its /metrics (one process per deployment is
enough: the figures come from the broker, not from the process). Labels name groups, stages and
topics, never a phone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from kafka.admin import KafkaAdminClient
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from phoneunify.kafka_admin import Lag, admin_client, consumer_lag, our_groups, stage_of
from phoneunify.settings import Settings
from schema.topics import Topics

log = logging.getLogger(__name__)


class LagExporter(Collector):
    # The label names of each family (a custom collector has no registry of them).
    LABELS = {"phoneunify_consumer_lag_records": ("group", "stage", "topic")}

    def __init__(
        self,
        settings: Settings,
        registry: CollectorRegistry,
        interval_s: float = 15.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._reading: list[Lag] = []
        self._read_at = 0.0
        self._admin: KafkaAdminClient | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        registry.register(self)

    def describe(self) -> Iterator[Metric]:
        yield from self._families([], 0.0)

    def collect(self) -> Iterator[Metric]:
        yield from self._families(self._reading, self._read_at)

    def _families(self, reading: list[Lag], read_at: float) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "phoneunify_consumer_lag_records",
            "Records on a topic that a phoneunify consumer group has not committed yet.",
            labels=list(self.LABELS["phoneunify_consumer_lag_records"]),
        )
        for item in reading:
            lag.add_metric([item.group, stage_of(item.topic, self.topics), item.topic], item.records)
        yield lag
        yield GaugeMetricFamily(
            "phoneunify_consumer_lag_updated_seconds",
            "Unix time of the last successful reading of the consumer lag (0: none yet).",
            value=read_at,
        )

    def refresh(self) -> None:
        """Read the lag now (the thread calls this; tests too)."""
        try:
            if self._admin is None:
                self._admin = admin_client(
                    self.settings, timeout_s=self.timeout_s, client_id="phoneunify-lag"
                )
            groups = our_groups(self._admin, (self.settings.worker_id, self.settings.writer_group))
            self._reading = consumer_lag(self._admin, groups, self.topics) if groups else []
            self._read_at = time.time()
        except Exception as exc:  # the broker is down or restarting: keep the last reading, try again
            log.warning("consumer lag: could not read it (%s)", type(exc).__name__)
            self._close_admin()

    def start(self) -> LagExporter:
        self._thread = threading.Thread(target=self._run, name="consumer-lag", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._close_admin()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.interval_s)

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception as exc:
                log.debug("consumer lag: closing the admin client failed (%s)", type(exc).__name__)
