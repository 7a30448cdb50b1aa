"""Placing documents on document servers with a consistent-hash ring kept in ZooKeeper.

Status: not implemented yet. The service currently runs as a single node that owns every
document.
"""
