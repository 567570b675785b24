"""Loyalty over the store (step "loyalty"). Result tables:

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

from ..errors import CxValueError
from ..steps import Step, StepResult, StepSkipped, register
from ..store import declare
from .analysis import loyalty_analysis

__all__ = ["loyalty_tables", "run_loyalty"]


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


def loyalty_tables(con, *, cutoffs=None, flag: str = "vip", category=None, since=None, until=None) -> dict:
    """Every loyalty result the store's tables allow (see the module docstring)."""
    try:
        return loyalty_analysis(con, cutoffs=cutoffs, flag=flag, category=category, since=since, until=until)
    except CxValueError as exc:
        raise StepSkipped(str(exc)) from None


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
