"""Shared machinery of the probabilistic CLV ("buy till you die") estimators.

Every model here is fitted by maximum likelihood on the *sufficient statistics* of each
customer (for BG/NBD: frequency, recency, T). Customers with identical statistics are
grouped once and carry a weight, so a million customers with a few thousand distinct
(x, t_x, T) triples cost a few thousand likelihood evaluations.

Parameters are optimised on the log scale (all are positive) with L-BFGS-B, using the
model's analytic gradient when it has one and central differences otherwise. Standard
errors come from the inverse Hessian of the negative log-likelihood at the optimum
(differences of the analytic gradient, or second differences of the likelihood), mapped
back to the natural scale by the delta method; intervals (level ``confidence``, default 0.95)
are Wald intervals on the log scale, ``θ·exp(±z·se/θ)`` (z = 1.96 at 0.95), so they never
cross zero.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import ConvergenceWarning, CxValueError, DataContractError, check_is_fitted
from ..estimator import Estimator, summary_table
from ..threads import small_numeric_work

__all__ = ["BaseBTYDModel", "add_lookups", "by_value", "group_rows", "log1mexp"]


# --------------------------------------------------------------------------- numerics
def log1mexp(d):
    """``log(1 - exp(d))`` for ``d <= 0``, accurate at both ends (Mächler 2012)."""
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > -np.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def group_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows of several equal-length columns (hash based, O(n)).

    Returns ``(first, inverse)``: the row number of the first occurrence of each group and,
    for every row, the number of its group, so that ``column[first][inverse] == column``.
    """
    n = len(columns[0])
    codes = np.zeros(n, dtype=np.int64)
    for col in columns:
        c, uniques = pd.factorize(np.asarray(col), use_na_sentinel=False)
        codes = codes * len(uniques) + c
        codes, _ = pd.factorize(codes)  # re-compact so the product never overflows
    inverse = codes.astype(np.intp)
    k = int(inverse.max()) + 1 if n else 0
    first = np.empty(k, dtype=np.intp)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    return first, inverse


def add_lookups(g: dict, keys) -> dict:
    """Index grouped statistics by their distinct values (``_u_<key>``, ``_i_<key>``) once.

    Special functions of a statistic with few distinct values (the frequency above all) are
    then evaluated on those values and gathered with :func:`by_value` instead of once per group."""
    for key in keys:
        codes, uniques = pd.factorize(g[key], use_na_sentinel=False)  # hash based: no sort
        g[f"_i_{key}"], g[f"_u_{key}"] = codes.astype(np.intp), np.asarray(uniques, dtype=float)
    return g


def by_value(g: dict, key: str, fn):
    """``fn`` on the distinct values of statistic ``key``, gathered per group (plain ``fn(g[key])``
    when :func:`add_lookups` was not applied)."""
    if f"_u_{key}" not in g:
        return fn(g[key])
    return fn(g[f"_u_{key}"])[g[f"_i_{key}"]]


# --------------------------------------------------------------------------- the base
class BaseBTYDModel(Estimator):
    """Base class: maximum-likelihood fit on grouped sufficient statistics.

    Subclasses define

    - ``_param_names``: conventional parameter names, in order;
    - ``_roles``: the data roles and their default column names, e.g.
      ``{"frequency": "frequency", "recency": "recency", "T": "T"}``;
    - ``_loglik(params, stats)``: per-row log-likelihood (``stats`` is a dict of arrays);
    - optionally ``_loglik_grad(params, stats)`` returning ``(ll, grad)`` with ``grad`` of
      shape (rows, n_params), derivatives with respect to the natural parameters;
    - ``_starts()``: starting points on the natural scale, tried in order;
    - ``_validate_stats(stats, index)``: raise on impossible values.

    Parameters: ``n_starts`` (starting points tried), ``maxiter``, ``tol`` (optimizer),
    ``confidence`` (level of the intervals in ``summary_``) and ``penalizer`` (default 0: plain
    maximum likelihood): a ridge ``penalizer * sum(log(params)**2)`` added to the mean negative
    log-likelihood, which keeps a fit off the edge of the parameter space (the peers' penalizer
    shrinks the raw parameters instead; ours is scale-free). ``loglik_`` is the likelihood itself.

    A fit with a parameter beyond 1e-6 or 1e6 or a singular Hessian is **degenerate**:
    ``converged_`` is False, ``degenerate_`` says why and a :class:`ConvergenceWarning` says what
    to try.

    Learned state (after ``fit``): ``params_`` (Series), ``summary_`` (one row per
    parameter: estimate, std_error, ci_low, ci_high), ``covariance_``, ``loglik_``, ``aic_``,
    ``bic_``, ``n_customers_``, ``n_groups_``, ``converged_``, ``n_iter_``,
    ``degenerate_``, ``optimizer_message_``, ``fit_time_s_``, ``columns_``.
    """

    _param_names: tuple[str, ...] = ()
    _roles: dict[str, str] = {}
    _integer_roles: tuple[str, ...] = ()
    model_name = "model"

    def __init__(self, *, n_starts: int = 3, maxiter: int = 2000, tol: float = 1e-10, confidence: float = 0.95,
                 penalizer: float = 0.0):
        self.n_starts = n_starts
        self.maxiter = maxiter
        self.tol = tol
        self.confidence = confidence
        self.penalizer = penalizer

    # ------------------------------------------------------------------ repr / summary
    def __repr__(self) -> str:
        if not hasattr(self, "params_") or not isinstance(self.params_, pd.Series):
            return super().__repr__()
        p = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({p}; loglik={self.loglik_:.2f}, n={self.n_customers_:g})"

    def to_frame(self) -> pd.DataFrame:
        """``summary_`` plus one row of fit statistics per model, as a plain frame."""
        check_is_fitted(self, ("params_",))
        out = self.summary_.copy()
        out["loglik"] = self.loglik_
        out["aic"] = self.aic_
        out["bic"] = self.bic_
        return out

    # ------------------------------------------------------------------ input handling
    def _check_init(self) -> None:
        if not isinstance(self.n_starts, (int, np.integer)) or isinstance(self.n_starts, bool) or self.n_starts < 1:
            raise CxValueError(f"n_starts must be a whole number >= 1, got {self.n_starts!r}")
        if not isinstance(self.maxiter, (int, np.integer)) or self.maxiter < 1:
            raise CxValueError(f"maxiter must be a whole number >= 1, got {self.maxiter!r}")
        if not np.isfinite(self.tol) or self.tol <= 0:
            raise CxValueError(f"tol must be a positive number, got {self.tol!r}")
        pen = getattr(self, "penalizer", 0.0)
        if isinstance(pen, bool) or not isinstance(pen, (int, float, np.floating)) or not np.isfinite(pen) or pen < 0:
            raise CxValueError(f"penalizer must be a number >= 0, got {pen!r}")
        self._confidence()

    def _columns(self, overrides: Mapping[str, str | None]) -> dict[str, str]:
        cols = dict(self._roles)
        for role, name in overrides.items():
            if name is not None:
                cols[role] = name
        return cols

    def _read(self, data, columns: Mapping[str, str], *, weights_col=None, customer_col=None,
              extra: Mapping[str, str] | None = None):
        """Pull the role columns out of ``data`` as float arrays and validate them.

        Returns ``(stats, weights, index, extra_values)``.
        """
        if isinstance(data, Mapping):
            data = pd.DataFrame(data)
        if not isinstance(data, pd.DataFrame):
            raise CxValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if len(data) == 0:
            raise DataContractError("data has no rows: expected one row per customer", expected="rows")
        wanted = dict(columns)
        if weights_col is not None:
            wanted["weights"] = weights_col
        if customer_col is not None:
            wanted["customer"] = customer_col
        for role, name in (extra or {}).items():
            wanted[role] = name
        missing = [name for name in wanted.values() if name not in data.columns]
        if missing:
            hint = ", ".join(f"{r}_col=" for r, n in wanted.items() if n in missing)
            raise DataContractError(
                f"column {missing[0]!r} not found in data: expected columns "
                f"{', '.join(map(repr, wanted.values()))}, got {list(map(str, data.columns))} "
                f"— name yours with {hint}",
                column=missing[0], expected="column present", got=list(data.columns))
        if customer_col is not None:
            index = pd.Index(data[customer_col], name=customer_col)
        else:
            index = data.index.copy()
            if index.name is None:
                index.name = "customer_id"
        stats = {}
        for role, name in columns.items():
            stats[role] = self._numeric(data[name], name, index)
            if role in self._integer_roles and not np.all(stats[role] == np.round(stats[role])):
                bad = int(np.flatnonzero(stats[role] != np.round(stats[role]))[0])
                raise DataContractError(
                    f"column {name!r}: expected whole numbers, got {float(stats[role][bad])!r} "
                    f"for customer {index[bad]!r}", column=name, expected="integer", got=stats[role][bad])
        if weights_col is not None:
            weights = self._numeric(data[weights_col], weights_col, index)
            if np.any(weights <= 0):
                bad = int(np.flatnonzero(weights <= 0)[0])
                raise DataContractError(
                    f"column {weights_col!r}: expected positive weights, got {float(weights[bad])!r} "
                    f"for customer {index[bad]!r}", column=weights_col, expected="> 0", got=weights[bad])
        else:
            weights = np.ones(len(data))
        extra_values = {role: data[name].to_numpy() for role, name in (extra or {}).items()}
        self._validate_stats(stats, columns, index)
        return stats, weights, index, extra_values

    @staticmethod
    def _numeric(series: pd.Series, name: str, index: pd.Index) -> np.ndarray:
        try:
            values = pd.to_numeric(series, errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError) as exc:
            raise DataContractError(f"column {name!r}: expected numbers ({exc})", column=name,
                                    expected="number") from None
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataContractError(
                f"column {name!r}: expected finite numbers, got {float(values[i])!r} for customer "
                f"{index[i]!r} ({int(bad.sum())} such rows) — drop or fill them first",
                column=name, expected="finite number", got=values[i])
        return values

    @staticmethod
    def _fail_where(mask, message: str, column: str, index: pd.Index, values=None) -> None:
        if np.any(mask):
            i = int(np.flatnonzero(mask)[0])
            got = f", got {float(values[i])!r}" if values is not None else ""
            n = int(np.sum(mask))
            raise DataContractError(
                f"{message}{got} for customer {index[i]!r} ({n} row{'s' if n > 1 else ''})",
                column=column, got=None if values is None else values[i])

    def _validate_stats(self, stats, columns, index) -> None:  # pragma: no cover - overridden
        pass

    # ------------------------------------------------------------------ optimisation
    def _starts(self) -> list[np.ndarray]:  # pragma: no cover - overridden
        return [np.ones(len(self._param_names))]

    def _nll_and_grad_u(self, u, stats, w, wsum):
        """Negative mean log-likelihood and its gradient w.r.t. ``u = log(params)``."""
        theta = np.exp(u)
        grad_fn = getattr(self, "_loglik_grad", None)
        with np.errstate(all="ignore"):
            if grad_fn is not None:
                ll, g = grad_fn(theta, stats)
                f = -np.dot(w, ll) / wsum
                cols = g.T if isinstance(g, np.ndarray) else g  # one weighted sum per parameter
                gu = -np.array([np.dot(w, c) for c in cols]) * theta / wsum
            else:
                f = -np.dot(w, self._loglik(theta, stats)) / wsum
                gu = self._fd_grad_u(u, stats, w, wsum)
        if not np.isfinite(f) or not np.all(np.isfinite(gu)):
            return 1e100, np.zeros_like(u)
        pen = getattr(self, "penalizer", 0.0)
        if pen:   # ridge on the log-parameters (per customer, like the mean log-likelihood)
            f, gu = f + pen * float(np.dot(u, u)), gu + 2 * pen * u
        return f, gu

    def _fd_grad_u(self, u, stats, w, wsum, h=1e-6):
        g = np.empty_like(u)
        for j in range(len(u)):
            e = np.zeros_like(u)
            e[j] = h
            fp = -np.dot(w, self._loglik(np.exp(u + e), stats)) / wsum
            fm = -np.dot(w, self._loglik(np.exp(u - e), stats)) / wsum
            g[j] = (fp - fm) / (2 * h)
        return g

    def _optimise(self, stats: dict, weights: np.ndarray) -> dict:
        """Maximise the weighted log-likelihood over the grouped statistics."""
        wsum = float(weights.sum())
        best = None
        tried = 0
        starts = self._starts()
        for start in starts:
            if tried >= max(self.n_starts, 1):
                break
            tried += 1
            u0 = np.log(np.asarray(start, dtype=float))
            res = optimize.minimize(
                self._nll_and_grad_u, u0, args=(stats, weights, wsum), jac=True, method="L-BFGS-B",
                bounds=[(-20.0, 20.0)] * len(u0),
                options={"maxiter": self.maxiter, "ftol": self.tol * 1e-3, "gtol": self.tol * 1e2,
                         "maxls": 50})
            # L-BFGS-B may stop with "abnormal termination in line search" right at the
            # optimum (the mean log-likelihood is flat to machine precision): judge
            # convergence by the gradient, not by the flag.
            ok = bool(np.all(np.isfinite(res.x)) and res.fun < 1e99
                      and np.max(np.abs(res.jac)) < 1e-5 and np.all(np.abs(res.x) < 19.9))
            if best is None or res.fun < best[0].fun - 1e-12:
                best = (res, ok)
            if ok and best[1]:
                break
        res, ok = best
        return {"u": res.x, "nll_mean": res.fun, "converged": ok, "n_iter": int(res.nit),
                "message": str(res.message), "tried": tried, "wsum": wsum}

    def _hessian_u(self, u, stats, w, wsum, h=1e-4) -> np.ndarray:
        """Hessian of the total negative log-likelihood w.r.t. log-parameters.

        Central differences of the analytic gradient; for models without one, second
        differences of the function itself (step 1e-3), which is more accurate than
        differencing a finite-difference gradient.
        """
        k = len(u)
        H = np.empty((k, k))
        if getattr(self, "_loglik_grad", None) is None:
            def f(v):
                with np.errstate(all="ignore"):
                    return -np.dot(w, self._loglik(np.exp(v), stats))
            h2 = 1e-3
            E = np.eye(k) * h2
            f0 = f(u)
            for i in range(k):
                H[i, i] = (f(u + E[i]) - 2 * f0 + f(u - E[i])) / h2 ** 2
                for j in range(i):
                    H[i, j] = H[j, i] = (f(u + E[i] + E[j]) - f(u + E[i] - E[j]) - f(u - E[i] + E[j])
                                         + f(u - E[i] - E[j])) / (4 * h2 ** 2)
            return H
        for j in range(k):
            e = np.zeros(k)
            e[j] = h
            gp = self._nll_and_grad_u(u + e, stats, w, wsum)[1]
            gm = self._nll_and_grad_u(u - e, stats, w, wsum)[1]
            H[:, j] = (gp - gm) / (2 * h)
        return 0.5 * (H + H.T) * wsum

    def _fit_on(self, data, roles: dict, *, weights_col=None, customer_col=None):
        """Read and validate the statistics named by ``roles``, fit, store the results; ``self``."""
        t0 = time.perf_counter()
        self._check_init()
        columns = self._columns(roles)
        stats, weights, index, _ = self._read(data, columns, weights_col=weights_col, customer_col=customer_col)
        res = self._fit_arrays(stats, weights)
        self._store(res, columns, index, stats, weights, t0)
        return self

    @small_numeric_work
    def _fit_arrays(self, stats: dict, weights: np.ndarray) -> dict:
        """Group, optimise and compute the covariance; return a result dict (one BLAS thread:
        the likelihood's dot products are too small to gain from more, see :mod:`cxvalue.threads`)."""
        cols = [stats[r] for r in self._roles]
        first, inverse = group_rows(cols)
        gstats = self._prepare({r: v[first] for r, v in stats.items()})
        gw = np.bincount(inverse, weights=weights, minlength=len(first))
        res = self._optimise(gstats, gw)
        u = res["u"]
        theta = np.exp(u)
        cov = np.full((len(u), len(u)), np.nan)
        try:
            H = self._hessian_u(u, gstats, gw, res["wsum"])
            if np.all(np.isfinite(H)):
                cov_u = np.linalg.inv(H)
                if np.all(np.diag(cov_u) > 0):
                    cov = cov_u * np.outer(theta, theta)  # delta method: d theta / d u = theta
        except np.linalg.LinAlgError:
            pass
        pen = getattr(self, "penalizer", 0.0)
        nll = res["nll_mean"] - pen * float(np.dot(u, u))          # the likelihood itself, without the penalty
        res.update(theta=theta, cov=cov, loglik=-nll * res["wsum"], n_groups=len(first),
                   groups=(stats, gstats, inverse))
        res["degenerate"] = self._degenerate(u, cov)
        if res["degenerate"]:
            res["converged"] = False
        return res

    #: |log(parameter)| beyond which a parameter is at the edge of the space (1e-6 or 1e6): the
    #: likelihood is flat there — a = 3e-7 with b = 29,000 says "nobody ever drops out"
    EDGE = np.log(1e6)

    def _degenerate(self, u, cov) -> str:
        """Why the fit is degenerate ('' when it is not): a parameter at the edge of its space, or a
        Hessian that is singular (no standard errors)."""
        edge = [f"{n} = {np.exp(v):.3g}" for n, v in zip(self._param_names, u) if abs(v) > self.EDGE]
        if edge:
            return f"{', '.join(edge)} at the edge of the parameter space"
        if not np.all(np.isfinite(np.diag(cov))):
            return "the likelihood is flat in some direction (singular Hessian: no standard errors)"
        return ""

    def _summary_frame(self, theta, cov) -> pd.DataFrame:
        se = np.sqrt(np.diag(cov))
        with np.errstate(all="ignore"):
            half = self._z() * se / theta
            lower, upper = theta * np.exp(-half), theta * np.exp(half)
        return summary_table(theta, se, lower, upper, index=pd.Index(self._param_names, name="parameter"))

    def _warn_convergence(self, res: dict, label: str = "") -> None:
        where = f" for {label}" if label else ""
        if res.get("degenerate"):
            warnings.warn(
                f"{type(self).__name__}{where}: degenerate fit — {res['degenerate']}; its predictions (e.g. "
                f"P(alive) near 1 for everyone) are not to be trusted. Try penalizer=0.01 (cxvalue clv "
                f"--penalizer 0.01), a longer calibration period, another model (--model pareto or the model "
                f"comparison, which skips degenerate fits), or check that repeat purchases are counted as "
                f"intended (line items, returns)", ConvergenceWarning, stacklevel=4)
            return
        if not res["converged"]:
            warnings.warn(
                f"{type(self).__name__} did not converge{where} after {res['tried']} starting "
                f"point(s) (optimizer: {res['message']}); the estimates may be unreliable — check "
                "the data (enough repeat buyers? recency <= T?) or raise maxiter",
                ConvergenceWarning, stacklevel=4)

    def _store(self, res: dict, columns: dict, index: pd.Index, stats: dict, weights, t0: float):
        theta, cov = res["theta"], res["cov"]
        k = len(theta)
        n = res["wsum"]
        self.params_ = pd.Series(theta, index=list(self._param_names), name="estimate")
        self.summary_ = self._summary_frame(theta, cov)
        self.covariance_ = pd.DataFrame(cov, index=list(self._param_names), columns=list(self._param_names))
        self.loglik_ = float(res["loglik"])
        self.aic_ = 2 * k - 2 * self.loglik_
        self.bic_ = k * np.log(n) - 2 * self.loglik_
        self.n_customers_ = float(n)
        self.n_groups_ = int(res["n_groups"])
        self.converged_ = bool(res["converged"])
        self.degenerate_ = res.get("degenerate", "")
        self.n_iter_ = int(res["n_iter"])
        self.optimizer_message_ = res["message"]
        self.columns_ = dict(columns)
        self._train = (index, stats, weights)
        self._train_groups = res.get("groups") if res.get("groups", (None,))[0] is stats else None
        self.fit_time_s_ = time.perf_counter() - t0
        self._warn_convergence(res)

    # ------------------------------------------------------------------ scoring
    def _stats_for(self, data, customer_col=None):
        """Statistics of ``data`` (or of the training data when ``data`` is None)."""
        check_is_fitted(self, ("params_",))
        if data is None:
            index, stats, _ = self._train
            return index, stats
        stats, _, index, _ = self._read(data, self.columns_, customer_col=customer_col)
        return index, stats

    def _grouped(self, stats):
        cached = getattr(self, "_train_groups", None)
        if cached is not None and cached[0] is stats:  # predictions on the training data: grouped at fit
            return cached[1], cached[2]
        first, inverse = group_rows([stats[r] for r in self._roles])
        return self._prepare({r: v[first] for r, v in stats.items()}), inverse

    def _prepare(self, g: dict) -> dict:
        """Hook: add derived arrays to the grouped statistics once, before optimising."""
        return g

    def _expected_at(self, times, data=None, customer_col=None):
        """Conditional expected purchases for several horizons, per customer:
        ``(index, array (customers, len(times)))`` (transaction models define ``_expected_at_grouped``)."""
        index, grouped, inv = self._expected_at_grouped(times, data, customer_col)
        return index, grouped[inv]

    def loglik_per_customer(self, data=None, *, customer_col=None) -> pd.DataFrame:
        """Log-likelihood of each customer's statistics under the fitted parameters."""
        index, stats = self._stats_for(data, customer_col)
        g, inv = self._grouped(stats)
        with np.errstate(all="ignore"):
            ll = self._loglik(self.params_.to_numpy(), g)[inv]
        return pd.DataFrame({"loglik": ll}, index=index)

    def score(self, data=None, *, customer_col=None) -> float:
        """Mean log-likelihood per customer (higher is better), sklearn style."""
        return float(self.loglik_per_customer(data, customer_col=customer_col)["loglik"].mean())


def check_horizon(name: str, value, *, integer: bool = False, allow_zero: bool = True) -> float:
    """Validate a time horizon argument."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CxValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise CxValueError(f"{name} must be a finite number {bound}, got {value!r}")
    if integer and v != round(v):
        raise CxValueError(f"{name} must be a whole number of periods, got {value!r}")
    return v


# --------------------------------------------------------------------------- non-contractual
class TransactionModel(BaseBTYDModel):
    """Base of the continuous-time, non-contractual models (BG/NBD, MBG/NBD, Pareto/NBD).

    Data: one row per customer with ``frequency`` (x, number of *repeat* purchases),
    ``recency`` (t_x, time of the last repeat purchase measured from the first purchase,
    0 when x = 0) and ``T`` (time from the first purchase to the end of the calibration
    period), all in one time unit (weeks for CDNOW).
    """

    _roles = {"frequency": "frequency", "recency": "recency", "T": "T"}
    _integer_roles = ("frequency",)

    def fit(self, data, *, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T", weights_col: str | None = None, customer_col: str | None = None):
        """Fit by maximum likelihood; returns ``self``.

        ``weights_col`` names an optional column of positive weights (e.g. the number of
        customers sharing the row). ``customer_col`` names the customer id column; without
        it the frame's index identifies customers in every prediction.
        """
        return self._fit_on(data, {"frequency": frequency_col, "recency": recency_col, "T": T_col},
                            weights_col=weights_col, customer_col=customer_col)

    def _validate_stats(self, stats, columns, index) -> None:
        x, tx, T = stats["frequency"], stats["recency"], stats["T"]
        self._fail_where(T < 0, f"column {columns['T']!r}: expected T >= 0 (time since the first purchase)",
                         columns["T"], index, T)
        self._fail_where(x < 0, f"column {columns['frequency']!r}: expected repeat-purchase counts >= 0",
                         columns["frequency"], index, x)
        self._fail_where(tx < 0, f"column {columns['recency']!r}: expected recency >= 0",
                         columns["recency"], index, tx)
        self._fail_where(tx > T, f"column {columns['recency']!r}: expected recency <= T "
                         f"(column {columns['T']!r})", columns["recency"], index, tx)
        self._fail_where((x == 0) & (tx != 0), f"column {columns['recency']!r}: expected recency 0 "
                         "for customers with frequency 0", columns["recency"], index, tx)

    # ---------------------------------------------------------------- model hooks
    def _p_alive(self, theta, g):  # pragma: no cover - overridden
        raise NotImplementedError

    def _cond_expected(self, theta, g, t):  # pragma: no cover - overridden
        raise NotImplementedError

    def _uncond_expected(self, theta, t):  # pragma: no cover - overridden
        raise NotImplementedError

    _cond_pmf = None
    _uncond_pmf = None

    # ---------------------------------------------------------------- predictions
    def predict_p_alive(self, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """P(alive at T | x, t_x, T) per customer (column ``p_alive``)."""
        index, stats = self._stats_for(data, customer_col)
        g, inv = self._grouped(stats)
        with np.errstate(all="ignore"):
            p = self._p_alive(self.params_.to_numpy(), g)
        return pd.DataFrame({"p_alive": p[inv]}, index=index)

    def predict_purchases(self, t: float, data=None, *, customer_col: str | None = None) -> pd.DataFrame:
        """Conditional expected number of purchases in (T, T + t] per customer.

        Column ``expected_purchases``; ``t`` in the time unit of the data.
        """
        t = check_horizon("t", t)
        index, e = self._expected_at([t], data, customer_col)
        return pd.DataFrame({"expected_purchases": e[:, 0]}, index=index)

    def predict_purchase_probabilities(self, t: float, n_max: int = 7, data=None, *,
                                       customer_col: str | None = None) -> pd.DataFrame:
        """P(exactly n purchases in (T, T + t] | x, t_x, T) for n = 0..n_max per customer.

        Columns ``p_0`` … ``p_{n_max}`` (the tail P(n > n_max) is 1 minus their sum).
        """
        if self._cond_pmf is None:
            raise CxValueError(f"{type(self).__name__} has no closed-form purchase-count "
                               "distribution: use BetaGeoModel or ModifiedBetaGeoModel")
        t = check_horizon("t", t)
        n_max = int(check_horizon("n_max", n_max, integer=True))
        index, stats = self._stats_for(data, customer_col)
        g, inv = self._grouped(stats)
        n = np.arange(n_max + 1, dtype=float)
        with np.errstate(all="ignore"):
            p = self._cond_pmf(self.params_.to_numpy(), g, t, n)
        return pd.DataFrame(p[inv], index=index, columns=[f"p_{k}" for k in range(n_max + 1)])

    def expected_purchases(self, t) -> np.ndarray:
        """Unconditional E[X(t)]: expected repeat purchases in (0, t] of a new customer.

        ``t`` may be a number or an array (returns the same shape).
        """
        check_is_fitted(self, ("params_",))
        t_arr = np.asarray(t, dtype=float)
        if np.any(~np.isfinite(t_arr)) or np.any(t_arr < 0):
            raise CxValueError(f"t must be finite numbers >= 0, got {t!r}")
        with np.errstate(all="ignore"):
            return self._uncond_expected(self.params_.to_numpy(), t_arr)

    def purchase_distribution(self, t: float, n_max: int = 7) -> pd.DataFrame:
        """P(X(t) = n) for a new customer, n = 0..n_max (columns ``n``, ``probability``)."""
        check_is_fitted(self, ("params_",))
        if self._uncond_pmf is None:
            raise CxValueError(f"{type(self).__name__} has no closed-form purchase-count "
                               "distribution: use BetaGeoModel or ModifiedBetaGeoModel")
        t = check_horizon("t", t)
        n_max = int(check_horizon("n_max", n_max, integer=True))
        n = np.arange(n_max + 1, dtype=float)
        with np.errstate(all="ignore"):
            p = self._uncond_pmf(self.params_.to_numpy(), t, n)
        return pd.DataFrame({"n": np.arange(n_max + 1), "probability": np.ravel(p)})

    def _expected_at_grouped(self, times, data=None, customer_col=None):
        """Conditional E[X(T, T+t)] for several horizons per group of identical statistics:
        ``(index, array (groups, len(times)), inverse)`` — customer i is row ``inverse[i]``."""
        index, stats = self._stats_for(data, customer_col)
        g, inv = self._grouped(stats)
        theta = self.params_.to_numpy()
        with np.errstate(all="ignore"):
            cols = [self._cond_expected(theta, g, float(t)) for t in times]
        return index, (np.column_stack(cols) if cols else np.empty((len(g["frequency"]), 0))), inv

