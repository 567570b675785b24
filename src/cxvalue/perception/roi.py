"""The money value of better experience, E2 (concepts E2; seed 000).

:func:`experience_roi` puts money on improvement: the value of moving detractors to
passives / promoters (difference of mean customer value between the classes) and of
closing each driver's gap (driver model: least squares of the 0-10 outcome on the
experience ratings; closing the gap raises a rating to its target — the ``ideal_<dim>``
answer, else ``expectation_<dim>``, else the top of the scale — the outcome moves by
coefficient × gap, customers change class, and each class change is worth the class value
difference). Customer value is :func:`cxvalue.value.customer_value.customer_values`: the
``customer_value.clv`` when the store has it, otherwise the customer's spend in the last
``window_days`` (rounded to whole months). The result is a ranked list of where improvement
pays most; percentile bootstrap intervals resample the surveyed customers. E1, what each
satisfaction group did after the survey, is :mod:`cxvalue.perception.experience_value`.
See docs/perception.md.
"""
from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..timeutil import DAYS_PER
from ..timeutil import as_date
from .experience_value import GROUPS, MEASURES, _cuts, _table

__all__ = ["experience_roi", "latest_answers"]

#: the class moves valued by E2: name → (from class, to class), 0 low / 1 middle / 2 high
MOVES = {"detractor_to_passive": (0, 1), "detractor_to_promoter": (0, 2), "passive_to_promoter": (1, 2)}


def latest_answers(con, columns, *, since=None, until=None) -> pd.DataFrame:
    """Each surveyed customer's latest answer (by ``date``) to ``columns``, computed in the
    engine (``argmax``); indexed by ``customer_id``."""
    r = _table(con, "responses", ("customer_id", "date"))
    cols = [c for c in columns if c in r.columns]
    r = r.filter(r.customer_id.notnull())
    if since is not None:
        r = r.filter(r.date.cast("date") >= ibis.literal(as_date(since, "since"), type="date"))
    if until is not None:
        r = r.filter(r.date.cast("date") <= ibis.literal(as_date(until, "until"), type="date"))
    agg = r.group_by("customer_id").aggregate(**{c: r[c].argmax(r.date).cast("float64") for c in cols})
    return agg.to_pandas().set_index("customer_id").sort_index()


def _driver_columns(columns, drivers=None) -> list[str]:
    if drivers is not None:
        return list(drivers)
    exp = [c for c in columns if str(c).startswith("experience_")]
    return exp or [c for c in columns if str(c).startswith("rating_")]


def _target_column(driver: str, columns) -> tuple[str | None, str]:
    """The column holding the target level of a driver rating (ideal, else expectation)."""
    dim = driver.split("_", 1)[1] if "_" in driver else driver
    for prefix, kind in (("ideal_", "ideal"), ("expectation_", "expectation")):
        if prefix + dim in columns:
            return prefix + dim, kind
    return None, "scale_max"


def _classify(score: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 low / 1 middle / 2 high for (rounded) scores."""
    s = np.round(score)
    return np.where(s <= lo, 0, np.where(s >= hi, 2, 1))


def _roi_frame(data, outcome: str, values, base_customers, window_days, as_of, since, until):
    """(one row per surveyed customer with the answers and ``value``, value source, customer base)."""
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        if "value" not in frame.columns:
            raise CxValueError("experience_roi on a frame needs a 'value' column (money per customer)")
        return frame, frame.attrs.get("value_source", "value"), base_customers or len(frame)
    from ..value.customer_value import customer_values
    con = data
    r = _table(con, "responses", ("customer_id", "date"))
    want = [outcome] + [c for c in r.columns if str(c).startswith(("experience_", "ideal_", "expectation_",
                                                                    "rating_"))]
    frame = latest_answers(con, want, since=since, until=until)
    if values is None:
        values = customer_values(con, as_of=as_of, months=max(1, round(int(window_days) / DAYS_PER["month"])))
    frame = frame.join(values["value"], how="inner")
    return frame, values.attrs.get("source", "value"), base_customers or len(values)


def _roi_arrays(frame: pd.DataFrame, outcome: str, drivers, scale_max: float):
    """(drivers, ratings X, outcome y, value v, gap to target, target kinds) of the complete answers."""
    if outcome not in frame.columns:
        raise CxValueError(f"outcome={outcome!r} is not a column of the data")
    drivers = _driver_columns(frame.columns, drivers)
    missing = [d for d in drivers if d not in frame.columns]
    if missing:
        raise CxValueError(f"drivers {missing} are not columns of the data")
    if not drivers:
        raise CxValueError("no driver ratings: expected experience_<dim> or rating_<item> columns, or drivers=[...]")
    frame = frame[frame[outcome].notna() & frame["value"].notna()]
    cols = list(frame.columns)
    X = frame[drivers].to_numpy(float)
    y = frame[outcome].to_numpy(float)
    v = frame["value"].to_numpy(float)
    T = np.column_stack([frame[c].to_numpy(float) if c else np.full(len(frame), scale_max)
                         for c in (_target_column(d, cols)[0] for d in drivers)])
    kinds = [_target_column(d, cols)[1] for d in drivers]
    ok = ~np.isnan(X).any(axis=1)
    if ok.sum() < len(drivers) + 10:
        raise CxValueError(f"only {int(ok.sum())} surveyed customers have every driver rating and a value: "
                           "too few to fit the driver model")
    X, y, v, T = X[ok], y[ok], v[ok], T[ok]
    T = np.where(np.isnan(T), X, T)
    return drivers, X, y, v, np.clip(T - X, 0, None), kinds


def _action_values(w, X, y, v, gap, drivers, lo: float, hi: float, scale_max: float):
    """All action values for row weights ``w`` (bootstrap counts; ones for the estimate):
    (values by action, driver coefficients, class per customer, mean value per class)."""
    n = len(y)
    A = np.column_stack([np.ones(n), X])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0][1:]
    cls = _classify(y, lo, hi)
    cv = np.array([np.sum(w * v * (cls == k)) / max(np.sum(w * (cls == k)), 1e-12) for k in range(3)])
    has = np.array([np.sum(w * (cls == k)) > 0 for k in range(3)])
    res = {}
    for name, (a, b) in MOVES.items():
        res[name] = (np.sum(w * (cls == a)) * (cv[b] - cv[a])) if has[a] and has[b] else np.nan
    for j, d in enumerate(drivers):
        new = _classify(np.minimum(y + max(coef[j], 0.0) * gap[:, j], scale_max), lo, hi)
        res[d] = float(np.sum(w * (cv[new] - cv[cls])))
    return res, coef, cls, cv


def experience_roi(data, *, outcome: str = "nps", drivers=None, cuts=None, values: pd.DataFrame | None = None,
                   scale_max: float = 10.0, base_customers: int | None = None, n_boot: int = 200,
                   confidence: float = 0.95, random_state=0, window_days: int = 365, as_of=None, since=None,
                   until=None) -> pd.DataFrame:
    """E2: the money value of better experience, ranked (see the module docstring).

    ``data`` is an Ibis backend (the store: latest answer per customer and customer values
    read there) or a pandas frame with one row per customer holding ``outcome``, the
    driver ratings and a ``value`` column. ``outcome`` is ``"nps"`` (classes
    detractor/passive/promoter) or ``"satisfaction"`` (``cuts``). ``drivers`` default to
    the ``experience_*`` columns (else ``rating_*``). ``values`` overrides the customer
    values read from the store (a frame with ``value``). ``base_customers`` scales the
    surveyed result to the customer base (default: every customer with a value).

    Returns one row per action, ``kind`` = ``"move"`` (detractor → passive, detractor →
    promoter, passive → promoter) or ``"driver"`` (close the gap of one driver): ``item``,
    ``customers`` (surveyed customers affected), ``coefficient`` (outcome points per
    rating point), ``target`` (ideal / expectation / scale_max), ``mean_gap`` (rating
    points to the target), ``nps_change`` (points of NPS among the surveyed, or of the
    share of the high group for satisfaction), ``value`` (money, surveyed customers),
    ``ci_low``/``ci_high`` (bootstrap over customers), ``value_per_customer`` (per
    surveyed customer), ``value_base`` (scaled to the customer base), ``rank`` within
    kind (1 = pays most) and ``value_source`` (``clv`` or ``spend_12m``).
    """
    measure = one_of("outcome", outcome, MEASURES)
    lo, hi = _cuts(measure, cuts)
    frame, source, n_base = _roi_frame(data, outcome, values, base_customers, window_days, as_of, since, until)
    drivers, X, y, v, gap, kinds = _roi_arrays(frame, outcome, drivers, scale_max)
    n = len(y)
    est, coef, cls, cv = _action_values(np.ones(n), X, y, v, gap, drivers, lo, hi, scale_max)
    boots = {k: [] for k in est}
    if int(n_boot) > 0:
        rng = np.random.default_rng(random_state)
        for _ in range(int(n_boot)):
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            rb, *_ = _action_values(w, X, y, v, gap, drivers, lo, hi, scale_max)
            for k, val in rb.items():
                boots[k].append(val)
    a = (1 - confidence) / 2
    g = GROUPS[measure]
    nps_now = 100.0 * (np.mean(cls == 2) - np.mean(cls == 0))
    rows = []
    for item, (fa, fb) in MOVES.items():
        moved = cls.copy()
        moved[cls == fa] = fb
        rows.append({"kind": "move", "item": f"{g[fa]}_to_{g[fb]}", "customers": int(np.sum(cls == fa)),
                     "coefficient": np.nan, "target": "", "mean_gap": np.nan,
                     "nps_change": 100.0 * (np.mean(moved == 2) - np.mean(moved == 0)) - nps_now,
                     "value": est[item], **_ci(boots[item], a)})
    for j, d in enumerate(drivers):
        new = _classify(np.minimum(y + max(coef[j], 0.0) * gap[:, j], scale_max), lo, hi)
        rows.append({"kind": "driver", "item": d, "customers": int(np.sum(new != cls)), "coefficient": coef[j],
                     "target": kinds[j], "mean_gap": float(gap[:, j].mean()),
                     "nps_change": 100.0 * (np.mean(new == 2) - np.mean(new == 0)) - nps_now,
                     "value": est[d], **_ci(boots[d], a)})
    out = pd.DataFrame(rows)
    out["value_per_customer"] = out["value"] / n
    out["value_base"] = out["value"] * (n_base / n)
    out["rank"] = out.groupby("kind")["value"].rank(ascending=False, method="min").astype("Int64")
    out["value_source"] = source
    out = out.sort_values(["kind", "rank"], ascending=[False, True], ignore_index=True)
    out.attrs.update(surveyed=n, base_customers=int(n_base), class_values=dict(zip(g, cv.tolist())),
                     outcome=outcome, nps=nps_now)
    return out


def _ci(values, a):
    vals = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if len(vals) == 0:
        return {"ci_low": np.nan, "ci_high": np.nan}
    lo, hi = np.quantile(vals, [a, 1 - a])
    return {"ci_low": float(lo), "ci_high": float(hi)}
