"""The loyalty analyses C1–C5 as the ``loyalty`` command and page call them — one call,
:func:`loyalty_analysis`, on a store (or an in-memory store of files). It returns frames named
like the result tables the run writes (:mod:`cxvalue.loyalty.pipeline`), so that the same view
shows a file's analysis and the store's."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import CxValueError, one_of
from ..store import has_table
from ..store import table as _contract_table

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
    from .segments import LoyaltyCutoffs
    one_of("what", what, WHAT)
    if isinstance(category, (list, tuple)) and len(category) == 1:
        category = category[0]
    if cutoffs is None:
        amin = attitude_min if attitude_min is not None else (9.0 if attitude == "nps" else 8.0)
        cutoffs = LoyaltyCutoffs(repeats_per_year=repeats_per_year, min_tenure_days=min_tenure_days,
                                 active_days=active_days, attitude=attitude, attitude_min=amin)
    single = what != "all"
    a = _Args(con, by if single else None, category, since, until, flag, cutoffs,
              list(_contract_table(con, "transactions").columns))
    out: dict[str, pd.DataFrame] = {}
    for w in (what,) if single else WHAT[:-1]:
        missing = _missing(a, w)
        if missing:
            if single:
                raise CxValueError(missing)
            continue
        out.update(_RUN[w](a, w))
    if not out:
        raise CxValueError("no loyalty analysis is possible on these tables: transactions has no channel, product or "
                           "incentive column, and no VIP flag or attitude answers are loaded")
    return out


@dataclass
class _Args:
    con: object
    by: str | None          # only for a single analysis
    category: object
    since: object
    until: object
    flag: str
    cutoffs: object
    tx_cols: list


def _missing(a: _Args, w: str) -> str | None:
    """Why analysis ``w`` cannot run on these tables (None when it can)."""
    con = a.con
    if w in ("channel", "product") and (a.by or w) not in a.tx_cols:
        return f"--what {w}: transactions have no {(a.by or w)!r} column"
    if w == "service" and (not has_table(con, "customers") or a.flag not in con.table("customers").columns):
        return f"--what service needs customers with a {a.flag!r} column (--customers FILE with a file)"
    if w == "segments" and (not has_table(con, "responses") or a.cutoffs.attitude not in con.table("responses").columns):
        return (f"--what segments needs survey answers with a {a.cutoffs.attitude!r} column: the store's responses, "
                "or --responses FILE")
    if w == "incentive" and "incentive" not in a.tx_cols:
        return "--what incentive needs an 'incentive' column in transactions"
    return None


def _repeat(a: _Args, w: str) -> dict:
    from .metrics import repeat_purchase_rate
    return {f"loyalty_{w}": repeat_purchase_rate(a.con, a.by or w, category=a.category, since=a.since, until=a.until)}


def _service(a: _Args, w: str) -> dict:
    from .metrics import service_loyalty
    return {"loyalty_service": service_loyalty(a.con, flag=a.flag, category=a.category, as_of=a.until)}


def _segments(a: _Args, w: str) -> dict:
    from .segments import loyalty_segments, segment_summary
    seg = loyalty_segments(a.con, a.cutoffs, as_of=a.until, category=a.category)
    summ = segment_summary(seg)
    for k, v in a.cutoffs.to_dict().items():
        summ[f"cut_{k}"] = v
    return {"loyalty_segments": seg, "loyalty_segment_summary": summ}


def _incentive(a: _Args, w: str) -> dict:
    from .metrics import incentive_share
    kw = {"category": a.category, "since": a.since, "until": a.until}
    parts = [incentive_share(a.con, **kw).assign(by="all")]
    col = a.by or ("channel" if "channel" in a.tx_cols else None)
    if col is not None:
        parts.append(incentive_share(a.con, by=col, **kw).assign(by=col))
    inc = pd.concat(parts, ignore_index=True)
    return {"loyalty_incentive": inc[["by"] + [c for c in inc.columns if c != "by"]]}


_RUN = {"channel": _repeat, "product": _repeat, "service": _service, "segments": _segments, "incentive": _incentive}
