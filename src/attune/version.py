"""Attune's version, in a module of its own: the fingerprints, `attune doctor` and a cluster's worker check read it."""

__version__ = "0.1.0"
