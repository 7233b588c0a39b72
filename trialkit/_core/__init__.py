"""Shared plumbing with no statistics: atomic files, canonical hashing, randomness, provenance.

Import from the submodules (``trialkit._core.files``, ``.hashing``, ``.rng``,
``.provenance``); this package imports nothing, so loading a protocol stays fast.
"""
