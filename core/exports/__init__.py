"""Exports built in the background (C5 in chat): what to export, the file store, the
action-log format and the service that builds one and tells its progress where it was asked."""
