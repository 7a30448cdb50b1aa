"""Folding an idle document's operations into a new snapshot version.

Status: not implemented yet. Documents currently keep their whole operation log in version 0.
"""
