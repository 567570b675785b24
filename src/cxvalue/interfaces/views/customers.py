"""Customer views: the drill-down list (the customers behind a number) and the customer 360
page, built from :mod:`cxvalue.explore.drill`; and :func:`mask`, which removes personal data
from any view for roles that need no names."""
from __future__ import annotations

import re

from ...explore.drill import LATEST, customer_list, customer_profile
from . import Column, Kpi, Kpis, Table, Text, View, coded_label, records, segment_label, stored_value
from .strategy import action_label, stage_label, strategy_label

LIST_COLUMNS = (("customer_id", "web_customer", "text"), ("name", "web_name", "text"),
                ("customer_segment", "by_segment", "text"), ("region", "web_region", "text"),
                ("value_tier", "web_value_tier", "text"), ("clv", "web_clv", "money"),
                ("p_alive", "web_p_alive", "pct"), ("p_churn", "web_p_churn", "pct1"),
                ("risk_decile", "churn_decile", "int"), ("main_reason", "churn_main_reason", "text"),
                ("stage", "lifecycle_stage", "text"), ("loyalty_segment", "web_loyalty_segment", "text"))
_CODED = {"value_tier": "tier_", "main_reason": "churn_fam_", "stage": "lifecycle_", "loyalty_segment": "seg_"}


def _coded(t, key, value):
    return coded_label(t, _CODED[key], value) if key in _CODED and value is not None else value


def list_view(session, f, drill: dict, *, sort: str, descending: bool, page: int, size: int) -> View:
    """One page of the customers behind a number (``meta``: total, page, size, sort)."""
    t = session.t
    rows, total = customer_list(session.con, f, drill, sort=sort, descending=descending, page=page, size=size)
    cols = [Column(k, t(label), fmt) for k, label, fmt in LIST_COLUMNS if k in rows.columns]
    recs = records(rows, [c.key for c in cols])
    for r in recs:
        for k in _CODED:
            if k in r:
                r[k] = _coded(t, k, r[k])
    v = View("customers", t("web_customers_title"), blocks=[Table("customer-list", "", columns=cols, rows=recs)])
    v.meta = {"total": total, "page": page, "size": size, "sort": sort, "descending": descending,
              "pages": max(1, -(-total // size)), "drill": drill, "filters": f.active() if f else {}}
    return v


def _dl(id, title, pairs) -> Table:
    """A two-column (field, value) table of the non-empty pairs."""
    return Table(id, title, columns=[Column("field", ""), Column("value", "")],
                 rows=[{"field": k, "value": v} for k, v in pairs if v is not None and v == v])


def _frame_table(id, title, df, cols, t) -> Table:
    cols = [(k, label, fmt) for k, label, fmt in cols if df is not None and k in df.columns]
    return Table(id, title, columns=[Column(k, t(label), fmt) for k, label, fmt in cols],
                 rows=records(df, [k for k, _, _ in cols]) if df is not None else [])


def customer_view(session, customer_id: str) -> View:
    """The customer 360: profile, value and CLV, P(alive), churn risk and its top reasons,
    lifecycle stage, the strategy playbook's recommended action, purchases, survey answers with
    comments, complaints."""
    t, cur = session.t, session.currency
    p = customer_profile(session.con, customer_id)
    prof, val, ch, lc, loy, ret = (p.get(k) or {} for k in ("profile", "value", "churn", "lifecycle", "loyalty",
                                                            "retention"))
    v = View("customer", f"{t('web_customer')} {p['customer_id']}")
    v.meta = {"customer_id": p["customer_id"], "counts": p["counts"], "personal_fields": [t("web_name")],
              "names": [prof["name"]] if prof.get("name") else []}
    v.blocks.append(Kpis("customer-kpis", "", items=[k for k in (
        Kpi("clv", f"{t('web_clv')} ({cur})", val.get("clv"), "money"),
        Kpi("revenue_12m", f"{t('web_revenue_12m')} ({cur})", val.get("revenue_12m"), "money"),
        Kpi("p_alive", t("web_p_alive"), val.get("p_alive", lc.get("p_alive")), "pct"),
        Kpi("p_churn", t("web_p_churn"), ch.get("p_churn"), "pct1"),
        Kpi("value_at_risk", f"{t('web_value_at_risk')} ({cur})", ret.get("value_at_risk"), "money"),
    ) if k.value is not None]))
    v.blocks.append(_dl("customer-profile", t("web_profile"), [
        (t("web_name"), prof.get("name")), (t("by_segment"), prof.get("segment")), (t("web_region"), prof.get("region")),
        (t("web_city"), prof.get("city")), (t("by_member_tier"), prof.get("member_tier")),
        (t("web_signup"), str(prof["signup_date"])[:10] if prof.get("signup_date") is not None else None),
        (t("web_owner"), prof.get("owner")),
        (t("web_value_tier"), _coded(t, "value_tier", val.get("value_tier"))),
        (t("web_strategy"), coded_label(t, "strategy_", val["strategy"]) if val.get("strategy") else None),
        (t("lifecycle_stage"), _coded(t, "stage", lc.get("current_stage"))),
        (t("web_loyalty_segment"), _coded(t, "loyalty_segment", loy.get("segment"))),
        (t("churn_decile"), ch.get("risk_decile")),
        (t("churn_main_reason"), _coded(t, "main_reason", ch.get("main_reason"))),
        (t("churn_action"), coded_label(t, "", ret["action"]) if ret.get("action") else None)]))
    st = p.get("strategy")
    if st:
        v.blocks.append(_strategy_block(t, st))
    reasons = [(ch.get(f"reason_{i}"), ch.get(f"reason_{i}_value"), ch.get(f"reason_{i}_shap")) for i in (1, 2, 3)]
    reasons = [r for r in reasons if r[0]]
    if reasons:
        v.blocks.append(Table("customer-risk-reasons", t("churn_top_reasons"), columns=[
            Column("feature", t("web_feature")), Column("value", t("web_value"), "number"),
            Column("contribution", t("web_contribution"), "float3")],
            rows=[{"feature": coded_label(t, "feat_", r[0]), "value": stored_value(r[1]), "contribution": r[2]}
                  for r in reasons]))
    tx = p["transactions"]
    if tx is not None and "is_return" in tx.columns:
        tx = tx.assign(is_return=[t("web_yes") if v is True or v == 1 else "" for v in tx.is_return])
    v.blocks.append(_frame_table("customer-transactions", t("t_transactions"), tx, (
        ("date", "web_date", "date"), ("order_id", "web_order", "text"), ("amount", "web_amount", "money"),
        ("channel", "by_channel", "text"), ("product", "by_product", "text"), ("is_return", "web_return", "text")), t))
    resp = p["responses"]
    if resp is not None and "touchpoint" in resp.columns:
        resp = resp.assign(touchpoint=[segment_label(t, "touchpoint", x) if isinstance(x, str) else x
                                       for x in resp.touchpoint])
    v.blocks.append(_frame_table("customer-responses", t("t_responses"), resp, (
        ("date", "web_date", "date"), ("nps", "NPS", "int"), ("satisfaction", "web_satisfaction", "float1"),
        ("touchpoint", "by_touchpoint", "text"), ("channel", "by_channel", "text"),
        ("comment", "web_comment", "text")), t))
    v.blocks.append(_frame_table("customer-complaints", t("t_complaints"), p["complaints"], (
        ("opened", "web_opened", "date"), ("resolved", "web_resolved", "date"), ("category", "web_category", "text"),
        ("severity", "web_severity", "text"), ("text", "web_comment", "text")), t))
    shown = {k: len(p[k]) for k in ("transactions", "responses", "complaints") if p.get(k) is not None}
    if any(shown[k] < p["counts"].get(k, 0) for k in shown):
        v.blocks.append(Text("customer-truncated", text=t("web_rows_truncated", n=LATEST)))
    return v


def _strategy_block(t, st: dict) -> Table:
    """The customer's row of the strategy playbook (step "strategy"): value-matrix cell, lifecycle
    stage, the play, the retention action (when on the retention list), and the recommended action
    with where it comes from (the play, or the retention action for customers at churn risk)."""
    source = st.get("action_source")
    return _dl("customer-strategy", t("strategy_customer_title"), [
        (t("web_strategy"), strategy_label(t, st.get("strategy"), st.get("value_tier"))),
        (t("lifecycle_stage"), stage_label(t, st.get("stage"))),
        (t("strategy_play"), action_label(t, st.get("play"))),
        (t("strategy_retention_action"), action_label(t, st.get("retention_action"))),
        (t("strategy_action"), action_label(t, st.get("action"))),
        (t("strategy_action_source"), t(f"strategy_src_{source}") if source else None)])


# --------------------------------------------------------------------------- masking
#: columns holding personal data (names, contact details) and free text that may contain them
PERSONAL = ("name", "customer_name", "phone", "mobile", "email", "e_mail", "address", "id_card")
FREE_TEXT = ("comment", "text", "verbatim", "feedback")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(\+?\d[\d\s-]{6,}\d)(?!\d)")
MASK = "•••"


def scrub(text):
    """Free text with e-mail addresses and phone-like digit runs replaced by a mask."""
    if not isinstance(text, str):
        return text
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, text))


def mask(view: View, names=()) -> View:
    """``view`` without personal data: personal columns and profile fields masked, free text
    scrubbed of e-mails, phone numbers and the given customer ``names``."""
    names = [n for n in (*names, *view.meta.pop("names", ())) if isinstance(n, str) and len(n) >= 2]
    personal_labels = set()

    def clean_text(s):
        s = scrub(s)
        for n in names:
            if isinstance(s, str):
                s = s.replace(n, MASK)
        return s

    for b in view.blocks:
        if not isinstance(b, Table):
            continue
        keys = {c.key for c in b.columns}
        for c in b.columns:
            if c.key in PERSONAL:
                personal_labels.add(c.label)
        for r in b.rows:
            for k in keys:
                if k in PERSONAL and r.get(k) is not None:
                    r[k] = MASK
                elif k in FREE_TEXT:
                    r[k] = clean_text(r.get(k))
            if keys == {"field", "value"}:
                if r["field"] in personal_labels or r["field"] in _profile_personal(view):
                    r["value"] = MASK
    view.meta["masked"] = True
    return view


def _profile_personal(view: View) -> set:
    return set(view.meta.get("personal_fields", ()))
