"""Accounts and permissions (账户与权限): users of the console, their roles, sessions and API-key permissions.

Invariants: passwords are stored only as Argon2 hashes; a permission is a named enum value
(`surface:resource:action`) and a role is a fixed set of them; a department operator or reviewer only
ever reaches its own department's data, which services check (not only routes); a session is a random
token whose SHA-256 alone is stored, and every console form carries the session's CSRF token.
"""
