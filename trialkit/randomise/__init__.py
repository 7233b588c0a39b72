"""The randomise stage: declare a scheme on the units, draw an allocation, check balance.

```python
units = randomise.read_units("units.csv", protocol)
allocation = randomise.allocate(protocol, units, seed=protocol.seed)
randomise.write_allocation(allocation, "allocation.csv")
table = randomise.balance(allocation, units, covariates=["caseload"], id_column="team_id")
```
"""

from trialkit.randomise.allocate import allocate, check_units, declare, read_units
from trialkit.randomise.allocation import Allocation, build_allocation
from trialkit.randomise.balance import Balance, BalanceTest, balance, balance_test
from trialkit.randomise.schemes import SCHEMES, Scheme, SchemeName
from trialkit.randomise.storage import metadata_path, read_allocation, write_allocation
from trialkit.randomise.units import Units

__all__ = [
    "SCHEMES",
    "Allocation",
    "Balance",
    "BalanceTest",
    "Scheme",
    "SchemeName",
    "Units",
    "allocate",
    "balance",
    "balance_test",
    "build_allocation",
    "check_units",
    "declare",
    "metadata_path",
    "read_allocation",
    "read_units",
    "write_allocation",
]
