"""Write ``tests/reference/data/pbc_randomised.csv``: the 312 randomised patients of the Mayo
Clinic trial of D-penicillamine in primary biliary cholangitis (1974-1984).

The data are R's ``survival::pbc`` (Therneau & Grambsch 2000; nearly identical to appendix D
of Fleming & Harrington 1991, *Counting Processes and Survival Analysis*), distributed with
the survival package under the LGPL and as ``csv/survival/pbc.csv`` by the Rdatasets
collection (github.com/vincentarelbundock/Rdatasets). The first 312 rows are the randomised
patients, as survRM2's ``rmst2.sample.data()`` takes them; kept are ``id``, ``time`` (days
from registration to death, transplant or the analysis in July 1986), ``status`` (0
censored, 1 transplant, 2 dead) and ``trt`` (1 D-penicillamine, 2 placebo). Run::

    python tests/reference/generate/pbc_randomised.py path/to/Rdatasets/csv/survival/pbc.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "pbc_randomised.csv"


def main(source: str) -> None:
    pbc = pd.read_csv(source)
    randomised = pbc.iloc[:312][["id", "time", "status", "trt"]].astype({"trt": int})
    assert randomised["trt"].isin([1, 2]).all() and len(randomised) == 312
    randomised.to_csv(OUT, index=False)


if __name__ == "__main__":
    main(sys.argv[1])
