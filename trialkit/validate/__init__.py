"""Validate outcome data against the protocol and the allocation (the ``validate`` stage).

>>> from trialkit import validate
>>> # data = validate.outcomes(protocol, allocation, ["clients.csv", "staff.xlsx"])
"""

from trialkit.validate.attrition import ArmCounts, Attrition, AttritionCheck, attrition_table
from trialkit.validate.consort import ArmFlow, ClusterSizes, ConsortFlow, consort_flows
from trialkit.validate.issues import issues_frame, write_issues
from trialkit.validate.privacy import pseudonymise, suppress_small_cells, suppression_mask
from trialkit.validate.readers import FORMATS, RawTable, read_table
from trialkit.validate.result import TrialData
from trialkit.validate.spending import SpendCheck, SpendFinding
from trialkit.validate.stage import outcomes, validate_data, validate_files
from trialkit.validate.survival import CENSORED, COMPETING, EVENT, event_column
from trialkit.validate.wwc import attrition_verdict, max_differential

__all__ = [
    "CENSORED",
    "COMPETING",
    "EVENT",
    "FORMATS",
    "ArmCounts",
    "ArmFlow",
    "Attrition",
    "AttritionCheck",
    "ClusterSizes",
    "ConsortFlow",
    "RawTable",
    "SpendCheck",
    "SpendFinding",
    "TrialData",
    "attrition_table",
    "attrition_verdict",
    "consort_flows",
    "event_column",
    "issues_frame",
    "max_differential",
    "outcomes",
    "pseudonymise",
    "read_table",
    "suppress_small_cells",
    "suppression_mask",
    "validate_data",
    "validate_files",
    "write_issues",
]
