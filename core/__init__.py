"""The rules of exportbot: jobs, roles, annotations, audit, grammar and messages.

Plain Python only: no platform SDK, no SQLAlchemy, no aiohttp (ARCHITECTURE.md).
"""
