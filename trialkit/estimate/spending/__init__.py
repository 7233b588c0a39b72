"""Statistics of the spend ledger: take-up and dose, equity of discretion, misuse.

Each module takes the validated spend frame (and the client frame where needed) and
returns frozen dataclasses; :mod:`trialkit.analyse.spending` lays them out as the results
document's spending rows.
"""
