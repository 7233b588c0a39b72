"""Randomisation schemes, one per file, in a registry keyed by :data:`SchemeName`.

Each scheme is a declaration built on its units: it knows every unit's exact probability of
each arm (:meth:`~Scheme.probabilities`) and realises assignments from a raw stream
(:meth:`~Scheme.draw`, :meth:`~Scheme.draw_many`), and it can count and enumerate its
possible assignments for randomisation inference.
"""

from __future__ import annotations

from typing import get_args

from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme, Scheme
from trialkit.randomise.schemes.blocked import BlockedRandomisation
from trialkit.randomise.schemes.blocked_cluster import BlockedClusterRandomisation
from trialkit.randomise.schemes.cluster import ClusterRandomisation
from trialkit.randomise.schemes.complete import CompleteRandomisation
from trialkit.randomise.schemes.matched_pairs import MatchedPairs, PairingMethod
from trialkit.randomise.schemes.rerandomisation import Rerandomisation
from trialkit.randomise.schemes.simple import SimpleRandomisation
from trialkit.randomise.schemes.stepped_wedge import SteppedWedge

#: Every scheme class, keyed by its name in the protocol.
SCHEMES: dict[SchemeName, type[Scheme]] = {
    cls.name: cls
    for cls in (
        SimpleRandomisation,
        CompleteRandomisation,
        BlockedRandomisation,
        ClusterRandomisation,
        BlockedClusterRandomisation,
        MatchedPairs,
        Rerandomisation,
        SteppedWedge,
    )
}
assert set(SCHEMES) == set(get_args(SchemeName)), "every SchemeName needs a scheme"

__all__ = [
    "SCHEMES",
    "BlockedClusterRandomisation",
    "BlockedRandomisation",
    "ClusterRandomisation",
    "CompleteRandomisation",
    "MatchedPairs",
    "PairingMethod",
    "Rerandomisation",
    "RuleScheme",
    "Scheme",
    "SchemeName",
    "SimpleRandomisation",
    "SteppedWedge",
]
