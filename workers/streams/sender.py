"""Sending a batch's records with a handful of futures instead of one per record.

`topic.send` costs ~0.1 ms of worker CPU per record (faust's FutureMessage, callbacks and
sensors, then aiokafka's accumulator), and the broker sees small produce batches: at thousands
of records per second that is most of a core. A stage here already holds a whole batch when it
sends, so it appends the records to one aiokafka record batch per partition and submits each
batch once; the stage then awaits every batch's acknowledgement before faust may commit its
offsets, exactly as it awaited every record's before.

Records keep their keys, and a key's partition is the one Kafka's default partitioner picks
(murmur2 of the key), so the placement and ordering contracts of each topic do not change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from mode import Service

# Under the broker's default 1 MB limit, with room for the batch header.
MAX_BATCH_BYTES = 512 * 1024
# A pack of records on an internal topic (see send_packed): few enough that one pack is a fair
# share of a resolver batch, small enough for any broker's default message size.
PACK_MAX_RECORDS = 100
PACK_MAX_BYTES = 256 * 1024


class BatchSender(Service):
    """An idempotent acks=all producer of its own, started before the agents, stopped after."""

    def __init__(self, bootstrap: str, client_id: str, timeout_s: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._timeout_ms = int(timeout_s * 1000)
        self._producer: AIOKafkaProducer | None = None
        self._partitions: dict[str, list[int]] = {}
        self._partitioner = DefaultPartitioner()

    async def on_start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap.split(","),
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            max_batch_size=MAX_BATCH_BYTES,
            request_timeout_ms=self._timeout_ms,
        )
        await producer.start()
        self._producer = producer

    async def on_stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _partitions_of(self, topic: str) -> list[int]:
        partitions = self._partitions.get(topic)
        if partitions is None:
            assert self._producer is not None
            partitions = sorted(await self._producer.partitions_for(topic))
            self._partitions[topic] = partitions
        return partitions

    def _partition(self, key: bytes | None, partitions: list[int]) -> int:
        partition: int = self._partitioner(key, partitions, partitions)
        return partition

    async def send_many(self, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> None:
        """Send (key, value) records to `topic` and wait until the broker acknowledged all."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("BatchSender is not started")
        partitions = await self._partitions_of(topic)
        builders: dict[int, Any] = {}
        pending: list[asyncio.Future[Any]] = []
        for key, value in records:
            partition = self._partition(key, partitions)
            builder = builders.get(partition)
            if builder is None:
                builder = builders[partition] = producer.create_batch()
            if builder.append(key=key, value=value, timestamp=None) is None:
                # Full: submit it and start the partition's next batch with this record.
                pending.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[partition] = producer.create_batch()
                builder.append(key=key, value=value, timestamp=None)
        for partition, builder in builders.items():
            pending.append(await producer.send_batch(builder, topic, partition=partition))
        if pending:
            await asyncio.gather(*pending)

    async def send_packed(
        self,
        topic: str,
        records: Iterable[tuple[bytes | None, bytes]],
        max_records: int = PACK_MAX_RECORDS,
        max_bytes: int = PACK_MAX_BYTES,
    ) -> None:
        """Send records as packs: the records of one partition, in order, joined as JSON Lines
        into one Kafka record keyed by its first record's key (so it lands on the partition each
        of its records would have). For an internal topic whose consumer unpacks (`unpack`):
        the consumer's per-record cost is paid once per pack."""
        partitions = await self._partitions_of(topic)
        packs: dict[int, tuple[bytes | None, list[bytes], int]] = {}
        out: list[tuple[bytes | None, bytes]] = []
        for key, value in records:
            partition = self._partition(key, partitions)
            line = value.replace(b"\n", b" ")  # a newline outside a JSON string is only whitespace
            first, lines, size = packs.get(partition, (key, [], 0))
            if lines and (len(lines) >= max_records or size + len(line) > max_bytes):
                out.append((first, b"\n".join(lines)))
                first, lines, size = key, [], 0
            lines.append(line)
            packs[partition] = (first, lines, size + len(line) + 1)
        out.extend((first, b"\n".join(lines)) for first, lines, _ in packs.values())
        await self.send_many(topic, out)


def unpack(value: bytes) -> list[bytes]:
    """The records of a pack (a record sent on its own is a pack of one)."""
    return [line for line in value.split(b"\n") if line.strip()]
