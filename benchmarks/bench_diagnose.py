"""Benchmark design diagnosis against batched NumPy references, in one run.

Run ``python benchmarks/bench_diagnose.py``. Each case prints trialkit's time, the
reference's time (best of several repeats, alternating, measured in the same run) and
their ratio, against the target ratio:

* 1,000 simulations of an individually randomised trial of N = 2,000 analysed by Lin's
  estimator (baseline covariate) with HC2, within 2× the reference;
* 1,000 simulations of a cluster trial of 100 clusters × 20 analysed by Lin's estimator
  with CR2, within 3× the reference; against two references: the textbook dense one
  (``n_g x n_g`` eigenproblem per cluster) and one using the push-through identity
  (``k x k`` per cluster, as trialkit does), the fair comparison.

Then, for every bundled protocol's batched outcomes (100 simulations each), the share of
the rows a batched fit carries that are padding (target at most 20 %), and the flagship's
``diagnose`` with its default engine against the same call in this process (target 1.2×).

trialkit's time is the whole ``diagnose`` call in one process (``executor="serial"``):
fabricating units, declaring the protocol's scheme, drawing assignments from the raw
stream, the fabricated outcome model (latent normal, ICC, baseline R²), the design matrix,
the fit with Bell-McCaffrey df for CR2, and nine diagnosands with bootstrapped Monte Carlo
SEs. The references draw the same kind of data with NumPy's generator, randomise by
argsort of uniform keys, solve the normal equations with ``np.linalg.solve``, and compute
HC2 from the leverages, or CR2 (with ``G - 1`` df, cheaper than Bell-McCaffrey), then
power, bias, RMSE and coverage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from scipy import special

from trialkit.diagnose import diagnose
from trialkit.protocol import Protocol
from trialkit.protocol.load import parse_protocol

SIMS = 1000
CHUNK = 100
FLAGSHIP = Path(__file__).resolve().parents[1] / "protocols" / "council_discretionary_budget.yaml"


def protocol(*, clustered: bool) -> Protocol:
    """The flagship reduced to one normal outcome with a baseline (R² 0.3), Lin's estimator,
    full compliance and the ITT alone, with N - k df for HC2 (what the references fit)."""
    data = yaml.safe_load(FLAGSHIP.read_text())
    if clustered:
        data["design"].update({"type": "cluster", "scheme": "cluster", "block_columns": []})
        data["units"]["planned"] = 100
        data["levels"][0]["per_unit"] = {"mean": 20, "cv": 0.0}
    else:
        data["design"].update(
            {
                "type": "individual",
                "scheme": "complete",
                "cluster_column": None,
                "block_columns": [],
            }
        )
        data["units"]["planned"] = 2000
    out = data["outcomes"][0]
    out.pop("range")
    out["assumptions"] = {
        "mean": 0.0,
        "sd": 1.0,
        "effect": 0.1,
        "icc": 0.05 if clustered else 0.0,
        "r2": 0.3,
    }
    if not clustered:
        out["level"] = data["units"]["name"]
    data["covariates"] = []  # the outcome's baseline is the one covariate
    data["subgroups"] = []
    data["power"].update({"attrition": 0.0, "variants": [], "compliance": 1.0})
    # the ITT alone, as the references estimate it: no complier effect (an IV per simulation)
    data["estimands"] = [e for e in data["estimands"] if e["type"] != "CACE"]
    if not clustered:  # HC2 with N - k df, as the reference (not Bell-McCaffrey's)
        data["analysis"]["frequentist"]["df"] = "residual"
    return parse_protocol(yaml.safe_dump(data))


def _draw(
    rng: np.random.Generator, s: int, g: int, m: int, icc: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Treatment (S, G), outcome and baseline (S, G, m) as the fabricated model draws them."""
    t = (np.argsort(rng.random((s, g)), axis=1) < g // 2).astype(np.float64)
    u = rng.standard_normal((s, g, 1)) * np.sqrt(icc)
    e, b = rng.standard_normal((2, s, g, m))
    base = u + np.sqrt(1 - icc) * b
    y = u + np.sqrt(1 - icc) * (np.sqrt(0.3) * b + np.sqrt(0.7) * e) + 0.1 * t[..., None]
    return t, y, base


def _lin(t: np.ndarray, base: np.ndarray) -> np.ndarray:
    s, g, m = base.shape
    tt = np.broadcast_to(t[..., None], (s, g, m))
    bc = base - base.mean(axis=(1, 2), keepdims=True)
    return np.stack([np.ones_like(bc), tt, bc, tt * bc], axis=-1).reshape(s, g * m, 4)


def _summarise(est: np.ndarray, se: np.ndarray, df: np.ndarray) -> dict[str, float]:
    p = 2 * special.stdtr(df, -np.abs(est / se))
    half = special.stdtrit(df, 0.975) * se
    return {
        "power": float(np.mean(p <= 0.05)),
        "bias": float(np.mean(est - 0.1)),
        "rmse": float(np.sqrt(np.mean((est - 0.1) ** 2))),
        "coverage": float(np.mean(np.abs(est - 0.1) <= half)),
    }


def reference_hc2(seed: int) -> dict[str, float]:
    """Batched NumPy: Lin + HC2 for SIMS simulations of N = 2,000."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(SIMS // CHUNK):
        t, y, base = _draw(rng, CHUNK, 2000, 1, 0.0)
        x, yy = _lin(t, base), y.reshape(CHUNK, -1)
        bread = np.linalg.inv(np.einsum("srk,srl->skl", x, x, optimize=True))
        coef = np.einsum("skl,srl,sr->sk", bread, x, yy, optimize=True)
        e = yy - np.einsum("srk,sk->sr", x, coef)
        xb = np.einsum("srk,skl->srl", x, bread, optimize=True)
        h = np.einsum("srk,srk->sr", xb, x)
        var = np.einsum("sr,sr->s", xb[..., 1] ** 2, e**2 / (1 - h))
        out.append((coef[:, 1], np.sqrt(var), np.full(CHUNK, 2000 - 4.0)))
    return _summarise(*(np.concatenate(a) for a in zip(*out, strict=True)))


def reference_cr2(seed: int) -> dict[str, float]:
    """Batched NumPy: Lin + CR2 (dense per-cluster adjustment, G - 1 df), 100 × 20."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(SIMS // CHUNK):
        t, y, base = _draw(rng, CHUNK, 100, 20, 0.05)
        x, yy = _lin(t, base), y.reshape(CHUNK, -1)
        bread = np.linalg.inv(np.einsum("srk,srl->skl", x, x, optimize=True))
        coef = np.einsum("skl,srl,sr->sk", bread, x, yy, optimize=True)
        e = (yy - np.einsum("srk,sk->sr", x, coef)).reshape(CHUNK, 100, 20)
        xg = x.reshape(CHUNK, 100, 20, 4)
        xb = np.einsum("sgmk,skl->sgml", xg, bread, optimize=True)
        h = np.einsum("sgik,sgjk->sgij", xb, xg, optimize=True)
        lam, vec = np.linalg.eigh(np.eye(20) - h)
        a = np.einsum(
            "sgij,sgj,sgkj->sgik", vec, 1 / np.sqrt(np.maximum(lam, 1e-12)), vec, optimize=True
        )
        score = np.einsum("sgm,sgmn,sgn->sg", xb[..., 1], a, e, optimize=True)
        out.append((coef[:, 1], np.sqrt((score**2).sum(axis=1)), np.full(CHUNK, 99.0)))
    return _summarise(*(np.concatenate(a) for a in zip(*out, strict=True)))


def reference_cr2_low_rank(seed: int) -> dict[str, float]:
    """Batched NumPy CR2 by the push-through identity (k x k per cluster), G - 1 df."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(SIMS // CHUNK):
        t, y, base = _draw(rng, CHUNK, 100, 20, 0.05)
        x, yy = _lin(t, base), y.reshape(CHUNK, -1)
        chol = np.linalg.cholesky(np.einsum("srk,srl->skl", x, x, optimize=True))
        linv = np.linalg.inv(chol)
        q = np.einsum("srk,slk->srl", x, linv, optimize=True)  # X = Q L'
        c = np.einsum("srk,sr->sk", q, yy)
        e = yy - np.einsum("srk,sk->sr", q, c)
        a = linv[:, :, 1]  # coefficient 1 = a . (Q'y)
        qg = q.reshape(CHUNK, 100, 20, 4)
        lam, vec = np.linalg.eigh(np.einsum("sgmk,sgml->sgkl", qg, qg, optimize=True))
        cg = np.einsum("sgmk,sgm->sgk", qg, e.reshape(CHUNK, 100, 20))
        va = np.einsum("sgkl,sk->sgl", vec, a)
        vc = np.einsum("sgkl,sgk->sgl", vec, cg)
        score = np.einsum("sgl,sgl->sg", va, vc / np.sqrt(1 - lam))
        out.append(
            (np.einsum("sk,sk->s", a, c), np.sqrt((score**2).sum(axis=1)), np.full(CHUNK, 99.0))
        )
    return _summarise(*(np.concatenate(a) for a in zip(*out, strict=True)))


def best_of(
    ours: Callable[[], object], reference: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """The fastest of ``repeats`` timed calls of each, alternating so both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((ours, times[0]), (reference, times[1])):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main(repeats: int = 3) -> None:
    """Print each case's times and ratio against its target."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")  # the references too: same footing as ours
    except ImportError:  # pragma: no cover
        pass
    cases = [
        ("HC2: 1,000 sims, N = 2,000, Lin", False, reference_hc2, 2.0),
        ("CR2: 1,000 sims, 100 x 20, Lin (dense ref)", True, reference_cr2, 3.0),
        ("CR2: 1,000 sims, 100 x 20, Lin (k x k ref)", True, reference_cr2_low_rank, 3.0),
    ]
    for label, clustered, reference, target in cases:
        p = protocol(clustered=clustered)

        def ours(p: Protocol = p) -> object:
            return diagnose(p, sims=SIMS, executor="serial", progress=False, chunk_size=CHUNK)

        ours()  # warm up (imports, first-call costs)
        t_ours, t_ref = best_of(ours, lambda r=reference: r(1), repeats)
        d = diagnose(p, sims=SIMS, executor="serial", progress=False, chunk_size=CHUNK)
        rows = d.to_frame()
        itt = (rows["diagnosand"] == "power") & ~rows["outcome"].str.endswith(":cace")
        power = float(rows.loc[itt, "estimate"].iloc[0])  # the ITT's, as the reference's
        ratio = t_ours / t_ref
        print(
            f"{label:<44} trialkit {t_ours:7.3f} s  reference {t_ref:7.3f} s  "
            f"ratio {ratio:5.2f}  (target <= {target:g}: {'ok' if ratio <= target else 'MISSED'})"
            f"  power {power:.3f} vs reference {reference(1)['power']:.3f}"
        )


def padding(sims: int = 100) -> None:
    """The most padding any batched fit carries, per bundled protocol (target <= 20 %)."""
    from trialkit._core.rng import RawStream
    from trialkit.diagnose.generate import batch_problem, draw_outcome
    from trialkit.diagnose.layout import design_arrays
    from trialkit.diagnose.simulate import _design_for
    from trialkit.protocol import load_protocol

    for path in sorted(FLAGSHIP.parent.glob("*.yaml")):
        p = load_protocol(path)
        if p.design.stepped_wedge is not None:
            continue
        design = _design_for(p, p.units.planned, 1)
        arms = np.concatenate(list(design.scheme.draw_many(RawStream(5), sims)), axis=0)
        rng = np.random.default_rng(1)
        worst, fitted = 0.0, 0
        for o in p.outcomes:
            if o.type == "survival" or batch_problem(p, o) is not None:
                continue
            rows = design_arrays(design, draw_outcome(design, o, arms, rng))
            worst = max([worst, *(part.padding for _, part in rows.groups())])
            fitted += 1
        if not fitted:
            print(f"padding, {path.stem:<36} no outcome takes the batched path")
            continue
        verdict = "ok" if worst <= 0.2 else "MISSED"
        print(f"padding, {path.stem:<36} at most {worst:6.1%}  (target <= 20%: {verdict})")


def engine(repeats: int) -> None:
    """The flagship's default ``diagnose`` engine against the same call in this process."""
    from trialkit.protocol import load_protocol

    p = load_protocol(FLAGSHIP)
    t_default, t_serial = best_of(
        lambda: diagnose(p, sims=100, progress=False),
        lambda: diagnose(p, sims=100, executor="serial", progress=False),
        repeats,
    )
    ratio = t_default / t_serial
    verdict = "ok" if ratio <= 1.2 else "MISSED"
    print(
        f"{'flagship, 100 sims: default engine':<44} {t_default:7.3f} s  in-process "
        f"{t_serial:7.3f} s  ratio {ratio:5.2f}  (target <= 1.2: {verdict})"
    )


if __name__ == "__main__":
    main()
    padding()
    engine(repeats=2)
