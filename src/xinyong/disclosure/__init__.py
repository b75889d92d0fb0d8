"""Disclosure (双公示 / 信用信息公示): what the public may see, decided in one place.

Invariants: revoked records are never published; a negative record is published only from its decision
date through the last day of its publicity period (the catalogue's tier maximum, possibly shortened by
configuration per record type and department class); natural persons' ID numbers are always masked and
their names masked by configuration; warning-only penalties on natural persons (and, by configuration,
market-regulation warnings) are not published. The portal pages, the public API and the sweep job all go
through `rules.is_published` (pure) or its SQL twin `service.published_clause`.
"""
