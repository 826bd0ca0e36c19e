"""Writing a batch of projected rows in one transaction, idempotently.

One INSERT ... SELECT over the batch sent as one jsonb parameter, an array of rows each an array
of the columns: a single statement whatever the batch size (a multi-row VALUES statement cost
SQLAlchemy a fresh compile, 13 bind parameters per row and a RETURNING list, then a second
statement to fix owners). jsonb rather than one array parameter per column: psycopg2 sends a
Python list as an ARRAY[...] constructor, one SQL constant per cell for PostgreSQL to parse and
cast (16,000 of them in a batch of 1,000), and adapts each cell in Python; one JSON text, encoded
by orjson in C and parsed by jsonb_in, whose arrays PostgreSQL indexes without a rescan, costs
PostgreSQL less than half and the writer's Python a fraction (bench/bench_projection.py --write).

Rows that change other rows are applied after the insert, whichever of the two came first
(they can: an unsend and its message may sit on different partitions, and a replay reads the
channels in any order), so the result is the same in any order:
- an unsend hides the text and attachments of the message it refers to, and what was read in
  the text (intent tags, sentiment), marks it `unsent` in its payload, and is itself superseded
  by that message, which now stands for it;
- of a booking's versions (one thread per booking), the latest by the form's own time is shown
  and the others are superseded by it; each carries its version number (1 = as first sent).
Both take advisory locks on what they recompute, so two writers never each miss the other's row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, and_, text, update

from phoneunify.db import advisory_locks_sql
from schema import jsoncodec
from schema import tables as t
from workers.timeline.projection import Change, Erase, Reproject, Row

# (column, PostgreSQL type) in the order of the statement below.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "uuid"),
    ("idempotency_key", "text"),
    ("customer_id", "uuid"),
    ("thread_id", "uuid"),
    ("type", "text"),
    ("channel", "text"),
    ("platform", "text"),
    ("kind", "text"),
    ("direction", "text"),
    ("occurred_at", "timestamptz"),
    ("content", "text"),
    ("sender", "text"),
    ("payload", "jsonb"),
    ("intent_tags", "text"),
    ("sentiment", "float8"),
    ("refers_to", "text"),
)
_NAMES = ", ".join(name for name, _ in COLUMNS)
# Tag lists travel as comma-joined text (tags are fixed words without commas): one string per
# cell, so every cell but the payload is read the same way (->> gives the text of a JSON string
# or number, NULL for null).
_TAGS_AT = [name for name, _ in COLUMNS].index("intent_tags")


def _cell(at: int, name: str, kind: str) -> str:
    if name == "payload":
        return f"r->{at}"  # already jsonb: not printed as text and parsed again
    if name == "intent_tags":
        return f"string_to_array(r->>{at}, ',')"
    return f"r->>{at}" if kind == "text" else f"CAST(r->>{at} AS {kind})"


_SOURCE = (
    "(SELECT "  # noqa: S608 - fixed column names and positions, the batch is bound
    + ", ".join(f"{_cell(at, name, kind)} AS {name}" for at, (name, kind) in enumerate(COLUMNS))
    + ", ord FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS batch(r, ord)) v"
)
# Identity and consent entries stay on the timeline of the customer their event names ("Conversation
# unlinked" belongs to the customer who lost the thread); only messages follow their thread.
IDENTITY_TYPES = ("identity", "consent")
_IDENTITY_LIST = ", ".join(f"'{kind}'" for kind in IDENTITY_TYPES)
# A message's owner is its thread's current customer whenever the thread is known (see write_batch).
_OWNER = (
    f"CASE WHEN th.id IS NOT NULL AND v.type NOT IN ({_IDENTITY_LIST})"
    " THEN th.customer_id ELSE v.customer_id END"
)
# What an erased owner's row keeps of these: nothing (an event about them that arrives after
# their erasure, from a partition the writer read late, is written blank; see write_batch).
_ERASED = {
    "content": "NULL",
    "sender": "NULL",
    "payload": """'{"erased": true}'::jsonb""",
    "intent_tags": "NULL",
    "sentiment": "NULL",
}


def _selected(name: str) -> str:
    value = f"v.{name}"
    return (
        f"CASE WHEN cu.erased_at IS NULL THEN {value} ELSE {_ERASED[name]} END" if name in _ERASED else value
    )


_SELECTED = ", ".join(_OWNER if name == "customer_id" else _selected(name) for name, _ in COLUMNS)
# Rows go in in batch order (WITH ORDINALITY): the first of two copies of one event wins.
INSERT = text(
    f"INSERT INTO timeline_events ({_NAMES}) "  # noqa: S608 - fixed column names, values are bound
    f"SELECT {_SELECTED} FROM {_SOURCE} "
    "LEFT JOIN threads th ON th.id = v.thread_id "
    f"LEFT JOIN customers cu ON cu.id = {_OWNER} "
    "ORDER BY v.ord "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)
# Advisory locks of the writer (the resolver's space is 0x5055).
LOCK_SPACE = 0x5054
# Channels whose messages can be unsent: their new messages look for an unsend that came first.
UNSEND_CHANNELS = frozenset({"instagram", "messenger"})
# An unsend hides its message and folds into it, whichever was written first. The messages to
# hide: those the batch's unsends name (the writer has them in hand), and those of the batch's
# messages an unsend written earlier names, found through the small index of the unsends
# (ix_timeline_unsends). Nothing else is read: a batch with no unsend, whose messages no unsend
# waits for, changes no row. (Looking the batch's unsends up by key, and any row that refers to
# another, made PostgreSQL read the whole table on every batch while the table was young.)
UNSEND = text(
    "WITH named AS ("
    " SELECT unnest(CAST(:named AS text[])) AS key"
    " UNION SELECT refers_to FROM timeline_events"
    " WHERE kind = 'deleted' AND refers_to = ANY(CAST(:messages AS text[]))),"
    " hidden AS ("
    " UPDATE timeline_events m SET content = NULL, intent_tags = NULL, sentiment = NULL,"
    " payload = (m.payload - 'attachments') || jsonb_build_object('unsent', true)"
    " FROM named WHERE m.idempotency_key = named.key AND m.kind <> 'deleted'"
    " AND NOT m.payload ? 'unsent'"
    " RETURNING m.id, m.idempotency_key)"
    " UPDATE timeline_events d SET superseded_by = hidden.id FROM hidden"
    " WHERE d.kind = 'deleted' AND d.refers_to = hidden.idempotency_key"
)
# A booking's versions: the latest by its own time (then by key, so any order agrees) is shown.
BOOKING_VERSIONS = text(
    "WITH v AS (SELECT id,"
    " row_number() OVER (PARTITION BY thread_id ORDER BY occurred_at, idempotency_key) AS version,"
    " first_value(id) OVER (PARTITION BY thread_id ORDER BY occurred_at DESC, idempotency_key DESC)"
    " AS latest"
    " FROM timeline_events WHERE kind = 'booking' AND thread_id = ANY(CAST(:threads AS uuid[])))"
    " UPDATE timeline_events te SET superseded_by = NULLIF(v.latest, v.id),"
    " payload = te.payload || jsonb_build_object('version', v.version)"
    " FROM v WHERE te.id = v.id AND (te.superseded_by IS DISTINCT FROM NULLIF(v.latest, v.id)"
    " OR te.payload -> 'version' IS DISTINCT FROM to_jsonb(v.version))"
)
BLANK = text(
    "UPDATE timeline_events SET "  # noqa: S608 - fixed text
    + ", ".join(f"{name} = {value}" for name, value in _ERASED.items())
    + " WHERE customer_id = ANY(CAST(:customers AS uuid[])) OR thread_id = ANY(CAST(:threads AS uuid[]))"
)


def write_batch(engine: Engine, rows: Sequence[Row], reprojections: Sequence[Change]) -> int:
    """Insert rows (a redelivered row is skipped by its idempotency key), then re-project
    threads and blank what erasures name. Returns the number of new rows.

    An erasure blanks every row of the erased customers and of their threads. An event about
    them emitted before the erasure may still come after it (it was keyed by a customer merged
    since, or by its thread while unlinked, so it sits on another partition): its row is
    written blank, because its owner (the thread's customer, kept by the erasure) is erased.

    A row's owner is its thread's current customer whenever the thread is known, because the
    writer may see a thread's link change before the thread's older messages (they were keyed
    by the old customer, or by the thread while unlinked, so they sit on other partitions).
    For the same reason a re-projection applies the thread's current customer, not the one its
    event names: two admin re-links read in reverse order still end with the later one."""
    inserted = 0
    with engine.begin() as conn:
        if rows:
            inserted = conn.execute(INSERT, {"rows": _encoded(rows)}).rowcount
            _apply_unsends(conn, rows)
            _apply_versions(conn, rows)
        for run in _runs(reprojections):
            if isinstance(run, Erase):
                ids = {
                    "customers": [str(c) for c in run.customer_ids],
                    "threads": [str(t) for t in run.thread_ids],
                }
                conn.execute(BLANK, ids)
            else:
                _reproject(conn, run)
    return inserted


def _runs(changes: Sequence[Change]) -> Iterator[Erase | list[Reproject]]:
    """The changes in order, each run of consecutive re-projections as one list: re-projections
    commute with each other (below), not with an erasure, which blanks by owner."""
    run: list[Reproject] = []
    for change in changes:
        if isinstance(change, Reproject):
            run.append(change)
            continue
        if run:
            yield run
            run = []
        yield change
    if run:
        yield run


# Re-projections of known threads, all in one statement. Each would set the rows of its thread
# (all of them, or only the unlinked ones) to the thread's current customer: the same owner for
# every re-projection of one thread, so applying several in a row gives what applying them at
# once gives (all rows if any asks for all, else the unlinked ones), in any order. Returns the
# threads it does not know, whose re-projections apply their own customers one by one.
REPROJECT_KNOWN = text(
    "WITH wanted AS"  # noqa: S608 - fixed text
    " (SELECT thread, bool_or(every_row) AS every_row"
    " FROM unnest(CAST(:threads AS uuid[]), CAST(:every_row AS boolean[])) AS w(thread, every_row)"
    " GROUP BY thread),"
    " moved AS (UPDATE timeline_events te SET customer_id = th.customer_id"
    " FROM wanted JOIN threads th ON th.id = wanted.thread"
    f" WHERE te.thread_id = wanted.thread AND te.type NOT IN ({_IDENTITY_LIST})"
    " AND te.customer_id IS DISTINCT FROM th.customer_id"
    " AND (wanted.every_row OR te.customer_id IS NULL))"
    " SELECT thread FROM wanted WHERE NOT EXISTS (SELECT 1 FROM threads WHERE threads.id = wanted.thread)"
)


def _reproject(conn: Connection, reprojections: Sequence[Reproject]) -> None:
    params = {
        "threads": [str(rp.thread_id) for rp in reprojections],
        "every_row": [not rp.only_unlinked for rp in reprojections],
    }
    unknown = {str(thread) for (thread,) in conn.execute(REPROJECT_KNOWN, params)}
    te = t.timeline_events.c
    for rp in reprojections:
        if str(rp.thread_id) not in unknown:
            continue
        # A thread the identity tables do not know: its events' customer, in their order.
        condition = and_(
            te.thread_id == rp.thread_id,
            te.type.not_in(IDENTITY_TYPES),
            te.customer_id.is_distinct_from(rp.customer_id),
        )
        if rp.only_unlinked:
            condition = and_(condition, te.customer_id.is_(None))
        conn.execute(update(t.timeline_events).where(condition).values(customer_id=rp.customer_id))


def _apply_unsends(conn: Connection, rows: Sequence[Row]) -> None:
    """Unsends in the batch, and new messages an earlier unsend may be waiting for."""
    named, messages = [], []
    for row in rows:
        values = row.values
        if values["kind"] == "deleted":
            if values.get("refers_to"):
                named.append(values["refers_to"])
        elif values["channel"] in UNSEND_CHANNELS:
            messages.append(values["idempotency_key"])
    if named or messages:
        # Locked by the message's key, so an unsend and its message written at once by two
        # writers are serialized: the later one's statement reads the other's committed row.
        _lock(conn, ("message:" + key for key in [*named, *messages]))
        conn.execute(UNSEND, {"named": named, "messages": messages})


def _apply_versions(conn: Connection, rows: Sequence[Row]) -> None:
    """Recompute the versions of the bookings the batch wrote to."""
    threads = sorted(
        {
            str(r.values["thread_id"])
            for r in rows
            if r.values["kind"] == "booking" and r.values.get("thread_id")
        }
    )
    if threads:
        _lock(conn, ("booking:" + thread for thread in threads))
        conn.execute(BOOKING_VERSIONS, {"threads": threads})


def _lock(conn: Connection, keys: Iterable[str]) -> None:
    """Locks held to the commit: a statement of their own, so the next one reads (under READ
    COMMITTED) what another writer committed while we waited."""
    conn.execute(text(advisory_locks_sql(LOCK_SPACE, keys)))


def _encoded(rows: Sequence[Row]) -> str:
    """The batch as INSERT reads it: a JSON array of rows, each the list of its cells in the order
    of COLUMNS. ids (uuid.UUID or text) and floats are written by the encoder as PostgreSQL reads
    them; times go through `default` (str: ISO 8601 with its offset, which timestamptz reads)."""
    cells: list[list[object]] = []
    for row in rows:
        values = row.values
        line = [values.get(name) for name, _ in COLUMNS]
        if (tags := values.get("intent_tags")) is not None:
            line[_TAGS_AT] = ",".join(tags)
        cells.append(line)
    return jsoncodec.dumps(cells, default=str).decode()
