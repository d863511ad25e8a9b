"""Shared parts of the pyrunc benchmark: processes, bundles, cgroups, reports."""
