"""Behavioural × attitudinal loyalty per customer (concepts C4; Dick & Basu 1994).

Behaviour (repeat purchase, tenure) crossed with attitude (recommendation / NPS, or
satisfaction) gives four segments:

=============  ==================  ===================  =====================================
segment        behaviour           attitude             reading
=============  ==================  ===================  =====================================
``true``       high                high                 true loyalty (真正忠诚)
``spurious``   high                low                  spurious / pseudo loyalty (虚假忠诚):
                                                        repeat buying without advocacy, e.g.
                                                        held by points or coupons
``latent``     low                 high                 latent loyalty (潜在忠诚)
``none``       low                 low                  no loyalty (无忠诚)
=============  ==================  ===================  =====================================

Cut-offs are explicit and configurable (:class:`LoyaltyCutoffs`, documented in
docs/loyalty.md). Behaviour is **high** when all of

* the customer's relationship (first purchase to the as-of date) is at least
  ``min_tenure_days`` long,
* repeat purchase occasions per year of tenure ≥ ``repeats_per_year``,
* the last purchase is within ``active_days`` of the as-of date;

attitude is **high** when the customer's latest answer of ``attitude`` (``"nps"`` or
``"satisfaction"``) is ≥ ``attitude_min`` (9 = promoter for NPS). Customers without a
survey answer are left out (their attitude is unknown).

Everything per customer is computed in the engine; :func:`loyalty_segments` returns
the per-customer frame and :func:`segment_summary` one row per segment.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import ibis
import numpy as np
import pandas as pd

from ..errors import CxValueError, one_of
from ..timeutil import DAYS_PER
from .metrics import _table, as_of_date, purchases

__all__ = ["SEGMENTS", "LoyaltyCutoffs", "loyalty_segments", "segment_summary"]

SEGMENTS = ("true", "spurious", "latent", "none")
ATTITUDES = ("nps", "satisfaction")


@dataclass(frozen=True)
class LoyaltyCutoffs:
    """Cut-offs of the behavioural × attitudinal loyalty segments (C4).

    repeats_per_year : behavioural loyalty needs at least this many repeat purchase
        occasions per year of tenure (default 2).
    min_tenure_days : ... and a relationship at least this long (default 180 days);
        shorter relationships are too young to count as behaviourally loyal.
    active_days : ... and a purchase within this many days of the as-of date (default 365).
    attitude : ``"nps"`` (likelihood to recommend, default) or ``"satisfaction"``.
    attitude_min : attitudinal loyalty when the latest answer is at least this
        (default 9: an NPS promoter; use 8 for satisfaction on 0-10).
    """

    repeats_per_year: float = 2.0
    min_tenure_days: int = 180
    active_days: int = 365
    attitude: str = "nps"
    attitude_min: float = 9.0

    def __post_init__(self):
        one_of("attitude", self.attitude, ATTITUDES)
        for name in ("repeats_per_year", "min_tenure_days", "active_days"):
            if getattr(self, name) < 0:
                raise CxValueError(f"{name}={getattr(self, name)!r} is not valid: expected a number >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


def loyalty_segments_expr(con, cutoffs: LoyaltyCutoffs | None = None, *, as_of=None, category=None):
    """The Ibis expression behind :func:`loyalty_segments` (one row per surveyed customer)."""
    cut = cutoffs or LoyaltyCutoffs()
    end = as_of_date(con, as_of)
    end_lit = ibis.literal(end, type="date")
    tx = purchases(con, category=category, until=end)
    if "incentive" not in tx.columns:
        tx = tx.mutate(incentive=ibis.literal(False))
    occ = tx.group_by(["customer_id", "day"]).aggregate(__inc=tx.incentive.fill_null(False).cast("int64").max())
    first = occ.group_by("customer_id").aggregate(__fd=occ.day.min())
    occ = occ.join(first, "customer_id")
    occ = occ.mutate(__rep=occ.day > occ.__fd)
    pc = occ.group_by("customer_id").aggregate(
        occasions=occ.count(), repeat_purchases=occ.count(where=occ.__rep),
        incentive_repeats=occ.count(where=occ.__rep & (occ.__inc > 0)),
        tenure_days=end_lit.delta(occ.day.min(), unit="day"),
        days_since_last=end_lit.delta(occ.day.max(), unit="day"))
    r = _table(con, "responses", ("customer_id", "date"))
    if cut.attitude not in r.columns:
        raise CxValueError(f"attitude={cut.attitude!r}: responses has no {cut.attitude!r} column; "
                           f"use attitude='nps' or 'satisfaction' with a column that exists")
    r = r.filter(r.customer_id.notnull() & r[cut.attitude].notnull() & (r.date.cast("date") <= end_lit))
    att = r.group_by("customer_id").aggregate(attitude_score=r[cut.attitude].argmax(r.date).cast("float64"),
                                              answers=r.count())
    pc = pc.rename(__key="customer_id")
    j = att.left_join(pc, att.customer_id == pc.__key).drop("__key")
    j = j.mutate(occasions=j.occasions.fill_null(0), repeat_purchases=j.repeat_purchases.fill_null(0),
                 incentive_repeats=j.incentive_repeats.fill_null(0))
    years = ibis.greatest(j.tenure_days.fill_null(0), 1).cast("float64") / DAYS_PER["year"]
    j = j.mutate(repeats_per_year=j.repeat_purchases.cast("float64") / years)
    beh = ((j.tenure_days.fill_null(-1) >= cut.min_tenure_days) & (j.repeats_per_year >= cut.repeats_per_year)
           & (j.days_since_last.fill_null(10 ** 9) <= cut.active_days))
    atti = j.attitude_score >= cut.attitude_min
    seg = ibis.cases((beh & atti, "true"), (beh & ~atti, "spurious"), (~beh & atti, "latent"), else_="none")
    j = j.mutate(behavioural_high=beh, attitudinal_high=atti, segment=seg)
    return j.select("customer_id", "segment", "behavioural_high", "attitudinal_high", "attitude_score", "answers",
                    "occasions", "repeat_purchases", "repeats_per_year", "tenure_days", "days_since_last",
                    "incentive_repeats")


def loyalty_segments(con, cutoffs: LoyaltyCutoffs | None = None, *, as_of=None, category=None) -> pd.DataFrame:
    """Behavioural × attitudinal loyalty segment of every surveyed customer (C4).

    Returns one row per customer with a survey answer, indexed by ``customer_id``:
    ``segment`` (true / spurious / latent / none), ``behavioural_high``,
    ``attitudinal_high``, ``attitude_score`` (latest answer), ``answers``, ``occasions``,
    ``repeat_purchases``, ``repeats_per_year``, ``tenure_days``, ``days_since_last``,
    ``incentive_repeats`` (repeat occasions with an incentive). The cut-offs used are in
    ``.attrs["cutoffs"]``.
    """
    cut = cutoffs or LoyaltyCutoffs()
    df = loyalty_segments_expr(con, cut, as_of=as_of, category=category).to_pandas()
    if df.empty:
        raise CxValueError(f"no customer has a {cut.attitude!r} answer in responses: C4 needs survey answers "
                           "linked to customers (responses.customer_id)")
    for c in ("occasions", "repeat_purchases", "incentive_repeats", "answers"):
        df[c] = df[c].astype("int64")
    df["behavioural_high"] = df["behavioural_high"].astype(bool)
    df["attitudinal_high"] = df["attitudinal_high"].astype(bool)
    df = df.set_index("customer_id").sort_index()
    df.attrs["cutoffs"] = cut.to_dict()
    return df


def segment_summary(segments: pd.DataFrame) -> pd.DataFrame:
    """One row per segment (in the order true, spurious, latent, none): ``customers``,
    ``share``, mean ``repeats_per_year``, mean ``attitude_score`` and the incentive share
    of the segment's repeat purchase occasions (``incentive_share``)."""
    need = ("segment", "repeats_per_year", "attitude_score", "repeat_purchases", "incentive_repeats")
    missing = [c for c in need if c not in segments.columns]
    if missing:
        raise CxValueError(f"segment_summary needs the output of loyalty_segments; missing {missing}")
    g = segments.groupby("segment", observed=True)
    out = pd.DataFrame({
        "customers": g.size(),
        "repeats_per_year": g["repeats_per_year"].mean(),
        "attitude_score": g["attitude_score"].mean(),
        "repeat_purchases": g["repeat_purchases"].sum(),
        "incentive_repeats": g["incentive_repeats"].sum(),
    }).reindex(list(SEGMENTS))
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["incentive_share"] = out["incentive_repeats"] / out["repeat_purchases"].where(out["repeat_purchases"] > 0)
    out = out.rename_axis("segment").reset_index()
    return out[["segment", "customers", "share", "repeats_per_year", "attitude_score", "repeat_purchases",
                "incentive_repeats", "incentive_share"]]
