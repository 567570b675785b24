"""Loyalty over the store (analysis order 48). Result tables:

* ``loyalty_channel`` (C1) and ``loyalty_product`` (C2) — :func:`repeat_purchase_rate`
  by ``channel`` and by ``product``;
* ``loyalty_service`` (C3) — :func:`service_loyalty` of ``customers.vip``;
* ``loyalty_segments`` (C4) — one row per surveyed customer from
  :func:`loyalty_segments` with the default :class:`LoyaltyCutoffs`, and
  ``loyalty_segment_summary`` (one row per segment; the cut-offs used as ``cut_*`` columns);
* ``loyalty_incentive`` (C5) — :func:`incentive_share` overall and by channel, long form
  with a ``by`` column (``all`` / ``channel``).
"""
from __future__ import annotations

import pandas as pd

from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare, has_table

__all__ = ["WHAT", "loyalty_analysis", "loyalty_tables", "run_loyalty"]


declare("loyalty_channel", key=("channel",), columns=("customers", "repeat_rate", "ci_low", "ci_high"),
        doc="C1: repeat-purchase rate by channel.")
declare("loyalty_product", key=("product",), columns=("repeat_rate",), doc="C2: repeat-purchase rate by product.")
declare("loyalty_service", key=("group",), columns=("retention_rate", "spend_per_purchase"),
        doc="C3: retention and spend of VIP-service customers vs the others.")
declare("loyalty_segments", key=("customer_id",), columns=("segment", "behavioural_high", "attitudinal_high"),
        doc="C4: true / spurious / latent / no loyalty per surveyed customer.")
declare("loyalty_segment_summary", key=("segment",), columns=("customers", "share"), doc="C4 per segment.")
declare("loyalty_incentive", columns=("by", "group", "incentive_share", "incentive_share_first"),
        doc="C5: share of purchases made with an incentive.")
WRITES = ("loyalty_channel", "loyalty_product", "loyalty_service", "loyalty_segments", "loyalty_segment_summary",
          "loyalty_incentive")


#: the analyses of ``loyalty_analysis(what=...)``
WHAT = ("channel", "product", "service", "segments", "incentive", "all")


def loyalty_analysis(con, *, what: str = "all", by: str | None = None, category=None, since=None, until=None,
                     flag: str = "vip", repeats_per_year: float = 2.0, min_tenure_days: int = 180,
                     active_days: int = 365, attitude: str = "nps", attitude_min: float | None = None,
                     cutoffs=None) -> dict[str, pd.DataFrame]:
    """The loyalty analyses C1–C5 on a store (or an in-memory store of files), as frames named
    like the result tables (see the module docstring).

    ``what``: ``channel`` (C1), ``product`` (C2), ``service`` (C3, the ``flag`` column of
    customers), ``segments`` (C4, with the cut-offs ``repeats_per_year``, ``min_tenure_days``,
    ``active_days``, ``attitude`` and ``attitude_min`` — default 9 for NPS, 8 for satisfaction —
    or a :class:`~cxvalue.loyalty.segments.LoyaltyCutoffs` as ``cutoffs``), ``incentive`` (C5) or
    ``all`` (every analysis the tables allow; a single one the tables do not allow is an error).
    ``by``: with ``channel`` / ``product``, the column whose repeat-purchase rate is measured
    instead (e.g. ``category``); with ``incentive``, the breakdown of the incentive share
    (default channel). ``category`` (a name or a list) keeps those product categories;
    ``since`` / ``until`` the purchases dated in between (``until`` is also the as-of date of
    retention and segments)."""
    from ..errors import CxValueError, one_of
    from .metrics import incentive_share, repeat_purchase_rate, service_loyalty
    from .segments import LoyaltyCutoffs, loyalty_segments, segment_summary
    one_of("what", what, WHAT)
    if isinstance(category, (list, tuple)) and len(category) == 1:
        category = category[0]
    if cutoffs is None:
        amin = attitude_min if attitude_min is not None else (9.0 if attitude == "nps" else 8.0)
        cutoffs = LoyaltyCutoffs(repeats_per_year=repeats_per_year, min_tenure_days=min_tenure_days,
                                 active_days=active_days, attitude=attitude, attitude_min=amin)
    single = what != "all"
    want = WHAT[:-1] if what == "all" else (what,)
    tx_cols = con.table("transactions").columns
    out: dict[str, pd.DataFrame] = {}
    for w in want:
        if w in ("channel", "product"):
            col = by if (by and single) else w
            if col not in tx_cols:
                if single:
                    raise CxValueError(f"--what {w}: transactions have no {col!r} column")
                continue
            out[f"loyalty_{w}"] = repeat_purchase_rate(con, col, category=category, since=since, until=until)
        elif w == "service":
            if not has_table(con, "customers") or flag not in con.table("customers").columns:
                if single:
                    raise CxValueError(f"--what service needs customers with a {flag!r} column (--customers FILE "
                                       "with a file)")
                continue
            out["loyalty_service"] = service_loyalty(con, flag=flag, category=category, as_of=until)
        elif w == "segments":
            if not has_table(con, "responses") or cutoffs.attitude not in con.table("responses").columns:
                if single:
                    raise CxValueError(f"--what segments needs survey answers with a {cutoffs.attitude!r} column: "
                                       "the store's responses, or --responses FILE")
                continue
            seg = loyalty_segments(con, cutoffs, as_of=until, category=category)
            out["loyalty_segments"] = seg
            summ = segment_summary(seg)
            for k, v in cutoffs.to_dict().items():
                summ[f"cut_{k}"] = v
            out["loyalty_segment_summary"] = summ
        elif w == "incentive":
            if "incentive" not in tx_cols:
                if single:
                    raise CxValueError("--what incentive needs an 'incentive' column in transactions")
                continue
            parts = [incentive_share(con, category=category, since=since, until=until).assign(by="all")]
            col = by if (by and single) else ("channel" if "channel" in tx_cols else None)
            if col is not None:
                parts.append(incentive_share(con, by=col, category=category, since=since, until=until).assign(by=col))
            inc = pd.concat(parts, ignore_index=True)
            out["loyalty_incentive"] = inc[["by"] + [c for c in inc.columns if c != "by"]]
    if not out:
        raise StepSkipped("no loyalty analysis is possible on these tables: transactions has no channel, product or "
                          "incentive column, and no VIP flag or attitude answers are loaded")
    return out


def loyalty_tables(con, *, cutoffs=None, flag: str = "vip", category=None, since=None, until=None) -> dict:
    """Every loyalty result the store's tables allow (see the module docstring)."""
    return loyalty_analysis(con, cutoffs=cutoffs, flag=flag, category=category, since=since, until=until)


def run_loyalty(session) -> StepResult:
    tabs = loyalty_tables(session.con, until=session.as_of)
    res = {}
    if "loyalty_incentive" in tabs:
        res["incentive_share"] = float(tabs["loyalty_incentive"]["incentive_share"].iloc[0])
    if "loyalty_segment_summary" in tabs:
        s = tabs["loyalty_segment_summary"].set_index("segment")["share"]
        res["true_loyal_share"] = float(s.get("true", 0.0))
    if "loyalty_service" in tabs:
        sv = tabs["loyalty_service"].set_index("group")["retention_rate"]
        res["retention_vip_vs_other"] = " vs ".join(f"{v:.2f}" for v in sv.to_numpy())
    return StepResult(tabs, res)


register(Step("loyalty", run_loyalty, needs=("transactions",), writes=WRITES, domain="loyalty",
              doc="Loyalty C1–C5: repeat purchase, service loyalty, loyalty segments, incentives."))
