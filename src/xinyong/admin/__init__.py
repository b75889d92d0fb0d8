"""The admin console (管理控制台) at /admin: what the 信用办 and the departments work in.

Routers here are thin; the scoped use-cases (a department only reaches its own data) are in service.py
and in the domains' services, which every entry point shares.
"""
