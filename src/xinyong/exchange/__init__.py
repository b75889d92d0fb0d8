"""The exchange (数据交换): what leaves the platform and what arrives from other platforms.

- Upward: national-format exports for the provincial platform, incremental by a cursor kept per destination.
- Partners: the change feed (`GET /api/v1/changes`) and webhooks, both read from the change log
  (`xinyong.changelog`), in commit order, through opaque signed cursors.

Invariants: cursors name the destination (or feed key) they were issued to and are signed with a key derived
from the platform's master key, so they survive restarts and cannot be forged or moved to another destination;
a feed never shows a type outside its key's class; ID numbers travel only in the national export to the
provincial platform (a government peer), never on the feed, in logs, the audit trail or the manifest.
"""
