"""The loyalty analyses C1–C5 as the ``loyalty`` command and page call them — one call,
:func:`loyalty_analysis`, on a store (or an in-memory store of files). It returns frames named
like the result tables the run writes (:mod:`cxvalue.loyalty.pipeline`), so that the same view
shows a file's analysis and the store's."""
from __future__ import annotations

import pandas as pd

from ..errors import CxValueError, one_of
from ..store import has_table

__all__ = ["WHAT", "loyalty_analysis"]

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
        raise CxValueError("no loyalty analysis is possible on these tables: transactions has no channel, product or "
                          "incentive column, and no VIP flag or attitude answers are loaded")
    return out
