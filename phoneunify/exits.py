"""The exit statuses every process and the supervisor (phoneunify/supervisor.py) agree on, from
sysexits.h, so that a restart policy can tell a stop worth retrying from one that is not."""

from __future__ import annotations

# Stopped on a bug in our own code, on PostgreSQL down past its retry bound, or (the resolver
# child) on its parent's death: nothing in hand was acknowledged or committed, so the restarted
# process reads it again. The supervisor restarts it.
EX_SOFTWARE = 70
# The configuration is wrong (a missing secret, say): the same configuration would fail the same
# way, so the supervisor reports the process FATAL instead of restarting it.
EX_CONFIG = 78
