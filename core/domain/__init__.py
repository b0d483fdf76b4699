"""The domain (B, G): jobs, roles and capabilities, schedules, quotas, subscriptions, audit.

Plain dataclasses and rules; nothing here knows a platform, a table or a reply."""
