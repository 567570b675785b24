"""Lifecycle patterns per relationship (concepts.md G2).

A relationship's pattern follows from the highest stage it reached (decline aside) and
whether it has ended (:func:`cxvalue.lifecycle.stages.lifecycle_stages`):

=================  ====================================  =========================
pattern            stages                                rule
=================  ====================================  =========================
early_abort 早期流产  exploration → decline → end           ended, highest exploration
midway_abort 中途夭折 … formation → decline → end           ended, highest formation
early_exit 提前退出   … stability → decline → end           ended, highest stability
long_term 长久保持    … stability, still a customer          not ended, highest stability
ongoing 进行中        exploration or formation, still a      not ended, stability not yet
                    customer (the pattern is not yet
                    decided)
=================  ====================================  =========================
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PATTERNS = ("early_abort", "midway_abort", "early_exit", "long_term", "ongoing")


def lifecycle_patterns(relationships: pd.DataFrame) -> pd.Series:
    """The pattern of each relationship (index: customer), from ``ended`` and ``highest_stage``."""
    hi = relationships["highest_stage"].to_numpy()
    ended = relationships["ended"].to_numpy(bool)
    pat = np.select([ended & (hi == "exploration"), ended & (hi == "formation"), ended & (hi == "stability"),
                     ~ended & (hi == "stability")],
                    ["early_abort", "midway_abort", "early_exit", "long_term"], "ongoing")
    return pd.Series(pat, index=relationships.index, name="pattern")


def pattern_summary(relationships: pd.DataFrame, *, by: pd.Series | None = None) -> pd.DataFrame:
    """Customers per pattern (and per group of ``by``): ``pattern``, ``customers``, ``share`` (of
    all relationships) and ``share_decided`` (of those whose pattern is decided, i.e. not ongoing),
    with mean purchases and mean relationship length in days."""
    pat = relationships["pattern"] if "pattern" in relationships.columns else lifecycle_patterns(relationships)
    end = pd.to_datetime(relationships["end_date"]).fillna(pd.to_datetime(relationships["last_purchase"]))
    df = pd.DataFrame({"pattern": pat, "purchases": relationships["purchases"],
                       "days": (end - pd.to_datetime(relationships["first_purchase"])).dt.days})
    keys = ["pattern"]
    if by is not None:
        df["group"] = by.reindex(df.index).astype(object).where(by.reindex(df.index).notna(), "(missing)").astype(str)
        keys = ["group", "pattern"]
    out = df.groupby(keys).agg(customers=("pattern", "size"), mean_purchases=("purchases", "mean"),
                               mean_days=("days", "mean")).reset_index()
    tot = out.groupby(keys[:-1]).customers.transform("sum") if by is not None else out.customers.sum()
    decided = out.customers.where(out.pattern != "ongoing", 0)
    dtot = decided.groupby(out[keys[0]]).transform("sum") if by is not None else decided.sum()
    out["share"] = out.customers / tot
    out["share_decided"] = (decided / dtot).where(out.pattern != "ongoing")
    out["pattern"] = pd.Categorical(out.pattern, PATTERNS, ordered=True)
    out = out.sort_values(keys).reset_index(drop=True)
    out["pattern"] = out.pattern.astype(str)
    return out[keys + ["customers", "share", "share_decided", "mean_purchases", "mean_days"]]
