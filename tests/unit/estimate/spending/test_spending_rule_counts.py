"""Rule counts of the spending section from a SpendCheck's findings."""

from __future__ import annotations

from trialkit.analyse.spending import rule_counts
from trialkit.estimate.spending.ledger import Ledger
from trialkit.protocol.vocabulary import SpendRule
from trialkit.validate.spending import SpendCheck, SpendFinding

RULES: tuple[SpendRule, ...] = ("cap_per_client", "late_justification", "control_arm_spend")


def _finding(ledger: Ledger, row: int, rule: SpendRule) -> SpendFinding:
    spend = ledger.spends.iloc[row]
    return SpendFinding(
        rule=rule,
        spend_id=str(spend["spend_id"]),
        file="spend.csv",
        row=row + 2,
        column="amount",
        unit=str(spend["team_id"]),
        arm=str(spend["arm"]),
        worker="W001",
        amount=float(spend["amount"]),
        limit=None,
        value=None,
        period=None,
        message="broken",
    )


def test_counts_spends_once_per_rule_and_keeps_zero_rows(ledger: Ledger) -> None:
    arms = ledger.spends["arm"].astype(str)
    budget = [i for i, arm in enumerate(arms) if arm == "budget"][:3]
    control = [i for i, arm in enumerate(arms) if arm == "usual"][:2]
    findings = [
        _finding(ledger, budget[0], "cap_per_client"),
        _finding(ledger, budget[0], "cap_per_client"),  # the same spend twice
        _finding(ledger, budget[1], "cap_per_client"),
        *(_finding(ledger, i, "control_arm_spend") for i in control),
    ]
    check = SpendCheck(
        findings=tuple(findings), files=("spend.csv",), spends=len(ledger.spends), rules=RULES
    )
    rows = {(r.rule, r.arm): r for r in rule_counts(ledger, check)}
    assert list(rows) == [
        ("cap_per_client", "budget"),
        ("late_justification", "budget"),
        ("control_arm_spend", "usual"),
    ]
    capped = rows["cap_per_client", "budget"]
    amounts = ledger.spends["amount"].iloc[budget[:2]]
    assert (capped.spends, capped.amount) == (2, float(amounts.sum()))
    assert capped.share_of_spends == 2 / int((arms == "budget").sum())
    assert rows["late_justification", "budget"].spends == 0
    assert rows["control_arm_spend", "usual"].spends == len(control)


def test_no_check_no_counts(ledger: Ledger) -> None:
    assert rule_counts(ledger, None) == ()
