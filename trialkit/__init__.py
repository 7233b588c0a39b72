"""trialkit: randomised trials of management practices in public services.

The package mirrors the pipeline ``protocol → design → randomise → register →
validate → estimate → report``. Heavy dependencies (pymc, arviz, matplotlib) are
imported lazily, only where they are used, so ``import trialkit`` stays fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
