"""Compiled log density, gradient and expansion of trialkit's models (numba).

The functions here are fixed: the model's structure and data arrive in one float64 buffer
(:func:`trialkit.estimate.bayesian.density.pack`), so numba compiles them once per process
(and caches them on disk) instead of once per model. Gradients are derived by hand; the tests
check values and gradients against PyMC's at random points. Reductions may be reassociated
(``fastmath={"reassoc", "contract"}``), which changes sums in the last bits only and keeps
NaN and infinity semantics, so a non-finite density still reaches nutpie as one.

Family codes: 0 normal, 1 Student t, 2 logistic, 3 ordered logistic, 4 Poisson,
5 negative binomial, 6 logistic on binomial cells (the rows' distinct designs, each with its
number of rows and of successes).
"""

from __future__ import annotations

import ctypes
import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

from .density import HEADER

_F = TypeVar("_F", bound=Callable[..., Any])


# No GIL; cached on disk; sums may be reassociated; numpy's error model, so a division by
# zero gives inf or nan (reported to nutpie as a non-finite density) instead of raising an
# exception that a C callback could not pass on.
_OPTIONS: dict[str, Any] = {
    "nogil": True,
    "cache": True,
    "fastmath": {"reassoc", "contract"},
    "error_model": "numpy",
}


def _jit(fn: _F) -> _F:
    """numba's ``njit`` with :data:`_OPTIONS`; uncached where no cache directory is writable."""
    try:
        return cast(_F, numba.njit(**_OPTIONS)(fn))
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return cast(_F, numba.njit(**{**_OPTIONS, "cache": False})(fn))


@_jit
def _digamma(x: float) -> float:
    """Digamma for x > 0: recurrence up to 6, then the asymptotic series (error < 1e-12)."""
    r = 0.0
    while x < 6.0:
        r -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
    return r + math.log(x) - 0.5 / x - series


@_jit
def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@_jit
def _softplus(x: float) -> float:
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@_jit
def _sizes(buf: np.ndarray) -> tuple[int, int, int, int, int]:
    """``(n, q, J, K, total buffer length)``; ``n`` is 0 when the rows are summarised."""
    n, q, J, K = int(buf[0]), int(buf[1]), int(buf[3]), int(buf[5])
    end = HEADER + n * (q + 2) + 3 * q + max(K - 1, 0)
    if buf[15] > 0:  # a normal likelihood from sufficient statistics, after the arrays
        end += _summary_length(q, J)
    if int(buf[6]) == 6:  # binomial cells: each cell's trials, after the arrays
        end += n
    return n, q, J, K, end


@_jit
def _summary_length(q: int, J: int) -> int:
    """Slots of the sufficient statistics (layout in :func:`density.summarise_rows`)."""
    return 3 + 2 * q + q * q + 2 * J + q * J


@_jit
def _arrays(buf: np.ndarray) -> tuple[np.ndarray, ...]:
    """Views of the buffer's arrays (layout in :func:`density.pack`): ``y``, ``Z`` (column
    by column), cluster codes, prior means, prior SDs, centring means, cutpoint prior means."""
    n, q, _, _, end = _sizes(buf)
    o = HEADER + n * (q + 2)  # after y, Z and the cluster codes
    return (
        buf[HEADER : HEADER + n],
        buf[HEADER + n : o - n],
        buf[o - n : o],
        buf[o : o + q],
        buf[o + q : o + 2 * q],
        buf[o + 2 * q : o + 3 * q],
        buf[o + 3 * q : end],
    )


@_jit
def _positive(theta: np.ndarray, t: int, grad: np.ndarray, rate: float) -> tuple[float, float]:
    """Exponential(rate) prior on ``exp(theta[t])`` with the log transform's Jacobian."""
    value = math.exp(theta[t])
    grad[t] += 1.0 - rate * value
    return value, theta[t] - rate * value


@_jit
def _normal(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    sigma, lp = _positive(theta, t, grad, buf[12])
    inv2 = 1.0 / (sigma * sigma)
    ss = 0.0
    for i in range(y.size):
        r = y[i] - eta[i]
        ss += r * r
        eta[i] = r * inv2
    grad[t] += ss * inv2 - y.size
    return float(lp - y.size * theta[t] - 0.5 * ss * inv2)


@_jit
def _student_t(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    sigma, lp = _positive(theta, t, grad, buf[12])
    nu = math.exp(theta[t + 1])
    lp += 2.0 * theta[t + 1] - 0.1 * nu  # Gamma(2, 0.1) on nu, with the Jacobian
    grad[t + 1] += 2.0 - 0.1 * nu
    n = y.size
    const = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    d_const = 0.5 * _digamma((nu + 1) / 2) - 0.5 * _digamma(nu / 2) - 0.5 / nu
    s_log, s_frac = 0.0, 0.0
    for i in range(n):
        r = (y[i] - eta[i]) / sigma
        r2 = r * r
        s_log += math.log1p(r2 / nu)
        frac = r2 / (nu + r2)
        s_frac += frac
        eta[i] = (nu + 1) * r / (sigma * (nu + r2))
    lp += n * (const - theta[t]) - 0.5 * (nu + 1) * s_log
    grad[t] += -n + (nu + 1) * s_frac
    grad[t + 1] += nu * (n * d_const - 0.5 * s_log + 0.5 * (nu + 1) / nu * s_frac)
    return float(lp)


@_jit
def _logistic(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    lp = 0.0
    for i in range(y.size):
        e = eta[i]
        lp += y[i] * e - _softplus(e)
        eta[i] = y[i] - _expit(e)
    return lp


@_jit
def _binomial(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    """The logistic likelihood of binomial cells: ``y`` successes in each cell's trials
    (the buffer's last array); the rows' Bernoulli likelihood, summed by cell."""
    end = _sizes(buf)[4]
    trials = buf[end - y.size : end]
    lp = 0.0
    for i in range(y.size):
        e = eta[i]
        lp += y[i] * e - trials[i] * _softplus(e)
        eta[i] = y[i] - trials[i] * _expit(e)
    return lp


@_jit
def _poisson(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    lp = 0.0
    for i in range(y.size):
        mu = math.exp(eta[i])
        lp += y[i] * eta[i] - mu
        eta[i] = y[i] - mu
    return lp


@_jit
def _negative_binomial(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    d = math.exp(theta[t])  # inv_dispersion ~ HalfNormal(1); alpha = 1 / d
    alpha = 1.0 / d
    lp = theta[t] - 0.5 * d * d
    grad[t] += 1.0 - d * d
    lg_alpha, dg_alpha = math.lgamma(alpha), _digamma(alpha)
    d_alpha = 0.0
    for i in range(y.size):
        mu = math.exp(eta[i])
        log_total = math.log(alpha + mu)
        lp += (
            math.lgamma(y[i] + alpha)
            - lg_alpha
            + alpha * (math.log(alpha) - log_total)
            + y[i] * (eta[i] - log_total)
        )
        d_alpha += (
            _digamma(y[i] + alpha)
            - dg_alpha
            + math.log(alpha)
            - log_total
            + (mu - y[i]) / (alpha + mu)
        )
        eta[i] = alpha * (y[i] - mu) / (alpha + mu)
    grad[t] -= alpha * d_alpha
    return float(lp)


@_jit
def _ordered_logistic(
    y: np.ndarray, eta: np.ndarray, theta: np.ndarray, t: int, grad: np.ndarray, buf: np.ndarray
) -> float:
    cut_mu = _arrays(buf)[6]
    m = cut_mu.size
    cut = np.empty(m)
    d_cut = np.zeros(m)
    lp = 0.0
    for c in range(m):
        cut[c] = theta[t] if c == 0 else cut[c - 1] + math.exp(theta[t + c])
        z = (cut[c] - cut_mu[c]) / 2.5
        lp -= 0.5 * z * z
        d_cut[c] = -z / 2.5
        if c > 0:
            lp += theta[t + c]  # the ordered transform's Jacobian
    for i in range(y.size):
        k = int(y[i])
        a = cut[k] - eta[i] if k < m else math.inf
        b = cut[k - 1] - eta[i] if k > 0 else -math.inf
        # P(y = k) = expit(a) - expit(b); from the upper tails when both are large, where
        # the difference of two numbers near 1 would lose every digit.
        p = _expit(-b) - _expit(-a) if b > 0 else _expit(a) - _expit(b)
        d_up, d_lo = _expit(a) * _expit(-a), _expit(b) * _expit(-b)
        lp += math.log(p)
        if k < m:
            d_cut[k] += d_up / p
        if k > 0:
            d_cut[k - 1] -= d_lo / p
        eta[i] = (d_lo - d_up) / p
    tail = 0.0
    for c in range(m - 1, -1, -1):
        tail += d_cut[c]
        grad[t + c] += tail if c == 0 else tail * math.exp(theta[t + c]) + 1.0
    return lp


@_jit
def _prior_and_eta(
    theta: np.ndarray, buf: np.ndarray, grad: np.ndarray
) -> tuple[float, np.ndarray, int]:
    """Log prior of the linear predictor's parameters (gradient into ``grad``, which this
    zeroes first), the linear predictor ``eta`` and where the family's parameters start."""
    n, q, J, _, _ = _sizes(buf)
    k, nu0 = int(buf[2]), buf[7]
    _, Z, cl, mu, sd, _, _ = _arrays(buf)
    for i in range(grad.size):
        grad[i] = 0.0
    lp = buf[8]
    for j in range(q):
        d = theta[j] - mu[j]
        if j < k and nu0 > 0:
            s2 = sd[j] * sd[j]
            lp -= 0.5 * (nu0 + 1) * math.log1p(d * d / (nu0 * s2))
            grad[j] = -(nu0 + 1) * d / (nu0 * s2 + d * d)
        else:
            lp -= 0.5 * (d / sd[j]) ** 2
            grad[j] = -d / (sd[j] * sd[j])
    eta = np.empty(n)
    t, a = q, 0.0
    if int(buf[6]) != 3:  # every family but ordered logistic has an intercept
        a = theta[t]
        d = (a - buf[9]) / buf[10]
        lp -= 0.5 * d * d
        grad[t] = -d / buf[10]
        t += 1
    for i in range(n):
        eta[i] = a
    for j in range(q):
        w = theta[j]
        col = Z[j * n : (j + 1) * n]
        for i in range(n):
            eta[i] += col[i] * w
    if J == 0:
        return lp, eta, t
    log_sd = theta[t]
    c_sd = math.exp(log_sd)
    s = c_sd / buf[11]
    lp += log_sd - 0.5 * s * s  # HalfNormal prior with the log transform's Jacobian
    grad[t] = 1.0 - s * s
    centred = buf[4] > 0
    for c in range(J):
        u = theta[t + 1 + c]
        if centred:  # u ~ Normal(0, cluster_sd)
            lp -= log_sd + 0.5 * (u / c_sd) ** 2
            grad[t + 1 + c] = -u / (c_sd * c_sd)
            grad[t] += (u / c_sd) ** 2 - 1.0
        else:
            lp -= 0.5 * u * u
            grad[t + 1 + c] = -u
    scale = 1.0 if centred else c_sd
    for i in range(n):
        eta[i] += scale * theta[t + 1 + int(cl[i])]
    return lp, eta, t + 1 + J


@_jit
def _normal_summarised(theta: np.ndarray, buf: np.ndarray, grad: np.ndarray) -> float:
    """Log density and gradient of a normal model from its rows' sufficient statistics.

    The likelihood depends on the data only through ``M'M`` and ``M'y`` for the design
    ``M = [Z, 1, C]`` (C: cluster indicators) and ``y'y``: with ``b`` the coefficients and
    ``r = y - M b``, ``M'r = M'y - M'M b`` and ``r'r = y'y - b'M'y - b'M'r``. The same
    density as the row-by-row kernel, in O(q^2 + q J) per evaluation instead of O(n q).
    ``y`` is centred at its mean (the intercept shifted to match) to keep ``r'r`` exact.
    """
    _, q, J, _, end = _sizes(buf)
    n = buf[15]
    o = end - _summary_length(q, J)
    yty, oty, ybar = buf[o], buf[o + 1], buf[o + 2]
    zty = buf[o + 3 : o + 3 + q]
    zt1 = buf[o + 3 + q : o + 3 + 2 * q]
    ztz = buf[o + 3 + 2 * q : o + 3 + 2 * q + q * q]
    p = o + 3 + 2 * q + q * q
    cty, nc, ztc = buf[p : p + J], buf[p + J : p + 2 * J], buf[p + 2 * J : p + 2 * J + q * J]
    lp, _, t = _prior_and_eta(theta, buf, grad)  # the prior: no rows to predict
    a = theta[q] - ybar
    v = np.zeros(J)
    if J > 0:
        scale = 1.0 if buf[4] > 0 else math.exp(theta[q + 1])
        for c in range(J):
            v[c] = scale * theta[q + 2 + c]
    r1 = oty - n * a
    ss = yty - a * oty
    rz = np.empty(q)
    for j in range(q):
        acc = zty[j] - a * zt1[j]
        for m in range(q):
            acc -= ztz[j * q + m] * theta[m]
        for c in range(J):
            acc -= ztc[j * J + c] * v[c]
        rz[j] = acc
        r1 -= zt1[j] * theta[j]
        ss -= theta[j] * (zty[j] + acc)
    rc = np.empty(J)
    for c in range(J):
        acc = cty[c] - nc[c] * (a + v[c])
        for j in range(q):
            acc -= ztc[j * J + c] * theta[j]
        rc[c] = acc
        r1 -= nc[c] * v[c]
        ss -= v[c] * (cty[c] + acc)
    ss -= a * r1
    sigma, lps = _positive(theta, t, grad, buf[12])
    inv2 = 1.0 / (sigma * sigma)
    grad[t] += ss * inv2 - n
    for j in range(q):
        grad[j] += rz[j] * inv2
    grad[q] += r1 * inv2
    if J > 0:
        c_sd = math.exp(theta[q + 1])
        for c in range(J):
            g = rc[c] * inv2
            if buf[4] > 0:
                grad[q + 2 + c] += g
            else:
                grad[q + 2 + c] += c_sd * g
                grad[q + 1] += c_sd * theta[q + 2 + c] * g
    return float(lp + lps - n * theta[t] - 0.5 * ss * inv2)


@_jit
def _backpropagate(theta: np.ndarray, buf: np.ndarray, g: np.ndarray, grad: np.ndarray) -> None:
    """Add the likelihood's gradient, given ``g`` = d log-likelihood / d eta, to ``grad``."""
    n, q, J, _, _ = _sizes(buf)
    _, Z, cl, _, _, _, _ = _arrays(buf)
    for j in range(q):
        col = Z[j * n : (j + 1) * n]
        acc = 0.0
        for i in range(n):
            acc += g[i] * col[i]
        grad[j] += acc
    t = q
    if int(buf[6]) != 3:
        acc = 0.0
        for i in range(n):
            acc += g[i]
        grad[t] += acc
        t += 1
    if J == 0:
        return
    by_cluster = np.zeros(J)
    for i in range(n):
        by_cluster[int(cl[i])] += g[i]
    c_sd = math.exp(theta[t])
    for c in range(J):
        if buf[4] > 0:
            grad[t + 1 + c] += by_cluster[c]
        else:
            grad[t + 1 + c] += c_sd * by_cluster[c]
            grad[t] += c_sd * theta[t + 1 + c] * by_cluster[c]


@_jit
def expand(theta: np.ndarray, buf: np.ndarray, out: np.ndarray) -> None:
    """The posterior variables at ``theta``, in :func:`density.variables` order."""
    _, q, J, K, _ = _sizes(buf)
    family = int(buf[6])
    means = _arrays(buf)[5]
    shift = 0.0
    for j in range(q):
        out[j] = theta[j]
        shift += means[j] * theta[j]
    t = o = q
    if family != 3:
        out[o] = theta[t]
        out[o + 1] = theta[t] - shift
        t += 1
        o += 2
    if J > 0:
        out[o] = math.exp(theta[t])
        for c in range(J):
            out[o + 1 + c] = theta[t + 1 + c]
        t += 1 + J
        o += 1 + J
    if family == 0 or family == 1:
        out[o] = math.exp(theta[t])
        if family == 1:
            out[o + 1] = math.exp(theta[t + 1])
    elif family == 3:
        m = K - 1
        for c in range(m):
            out[o + c] = theta[t] if c == 0 else out[o + c - 1] + math.exp(theta[t + c])
            out[o + m + c] = out[o + c] + shift
    elif family == 5:
        out[o] = math.exp(theta[t])


_PTR = numba.types.CPointer(numba.types.double)
LOGP_SIGNATURE = numba.types.int64(numba.types.uint64, _PTR, _PTR, _PTR, numba.types.voidptr)
EXPAND_SIGNATURE = numba.types.int64(
    numba.types.uint64, numba.types.uint64, _PTR, _PTR, numba.types.voidptr
)
_LIKELIHOODS = (
    _normal,
    _student_t,
    _logistic,
    _ordered_logistic,
    _poisson,
    _negative_binomial,
    _binomial,
)


@_jit
def _buffer(user_data: Any) -> Any:
    head = numba.carray(user_data, (HEADER,), np.float64)
    return numba.carray(user_data, (_sizes(head)[4],), np.float64)


@functools.cache
def log_density_callback(family_code: int) -> Any:
    """nutpie's log-density callback for one family, compiled on first use.

    A C function ``(dim, theta, gradient out, log density out, buffer) -> status``:
    0 ok, -1 wrong dimension, 3 non-finite gradient, 4 non-finite log density.
    """
    likelihood = _LIKELIHOODS[family_code]

    def log_density(dim: int, x_: Any, out_: Any, logp_: Any, user_data: Any) -> int:
        buf = _buffer(user_data)
        if dim != int(buf[13]):
            return -1
        theta = numba.carray(x_, (dim,))
        grad = numba.carray(out_, (dim,))
        if buf[15] > 0:  # a normal likelihood from the rows' sufficient statistics
            lp = _normal_summarised(theta, buf, grad)
        else:
            lp, eta, t = _prior_and_eta(theta, buf, grad)
            lp += likelihood(_arrays(buf)[0], eta, theta, t, grad, buf)
            _backpropagate(theta, buf, eta, grad)
        numba.carray(logp_, (1,))[0] = lp
        for i in range(dim):
            if not np.isfinite(grad[i]):
                return 3
        return 0 if np.isfinite(lp) else 4

    return numba.cfunc(LOGP_SIGNATURE, error_model="numpy")(log_density)


@functools.cache
def expand_callback() -> Any:
    """nutpie's expansion callback ``(dim, n_out, theta, out, buffer) -> status``."""

    def expand_draw(dim: int, n_out: int, x_: Any, out_: Any, user_data: Any) -> int:
        buf = _buffer(user_data)
        if dim != int(buf[13]) or n_out != int(buf[14]):
            return -1
        expand(numba.carray(x_, (dim,)), buf, numba.carray(out_, (n_out,)))
        return 0

    return numba.cfunc(EXPAND_SIGNATURE, error_model="numpy")(expand_draw)


def _doubles(a: np.ndarray) -> Any:
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def evaluate(
    family_code: int, theta: np.ndarray, buffer: np.ndarray
) -> tuple[int, float, np.ndarray]:
    """Call the compiled callback from Python: ``(status, log density, gradient)``."""
    theta = np.ascontiguousarray(theta, dtype=float)
    grad, lp = np.empty_like(theta), np.empty(1)
    status = log_density_callback(family_code).ctypes(
        theta.size, _doubles(theta), _doubles(grad), _doubles(lp), buffer.ctypes.data
    )
    return int(status), float(lp[0]), grad


def expand_values(theta: np.ndarray, buffer: np.ndarray) -> np.ndarray:
    """Call the compiled expansion from Python: the posterior variables at ``theta``."""
    theta = np.ascontiguousarray(theta, dtype=float)
    out = np.empty(int(buffer[14]))
    expand_callback().ctypes(
        theta.size, out.size, _doubles(theta), _doubles(out), buffer.ctypes.data
    )
    return out
