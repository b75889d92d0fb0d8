"""Notifications (通知) and the outbox of change events (变更事件).

Invariants: a message or event is written to the outbox in the same transaction as the change it
reports, and delivered only after that transaction commits (a rolled-back change sends nothing).
Delivery is at-least-once and retried; backends are pluggable (console, email).
"""
