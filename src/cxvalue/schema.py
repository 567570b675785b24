"""The data contract: the tables cxvalue takes in, their columns, types, keys and allowed values.

Canonical column names are short English snake_case. A file that already uses them
needs no mapping; otherwise a column is matched by its aliases (case, spaces and
punctuation ignored) or by a mapping file (see :mod:`cxvalue.io.mapping`).

Types: ``string``, ``int``, ``float``, ``bool``, ``date``, ``timestamp``.

Survey tables may carry *rating columns* named by prefix, one per experience dimension
or follow-up item: ``experience_<dim>``, ``expectation_<dim>``, ``importance_<dim>``,
``ideal_<dim>``, ``rating_<item>``, ``value_<item>`` and ``cost_<item>`` (customer delivered
value, B7). They are numbers on a declared scale (default 0-10, set per column or per
prefix in the mapping file's ``scales``); values outside it are rejected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

DTYPES = ("string", "int", "float", "bool", "date", "timestamp")

#: SQL (DuckDB) types of the contract's dtypes.
SQL_TYPES = {"string": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN",
             "date": "DATE", "timestamp": "TIMESTAMP"}

RATING_PREFIXES = ("experience_", "expectation_", "importance_", "ideal_", "rating_", "value_", "cost_")
DEFAULT_SCALE = (0.0, 10.0)
#: the six experience dimensions of the CEM method (concepts.md D4)
EXPERIENCE_DIMENSIONS = ("product", "price", "service", "convenience", "brand_image", "relationship")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    required: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    not_future: bool = False
    customer_ref: bool = False
    scale: tuple[float, float] | None = None  # declared scale (overridable per load)

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name}: dtype {self.dtype!r} not in {DTYPES}")


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    order_key: tuple[str, ...] = ()      # the key of a file without the line column: one row per order
    date_column: str | None = None
    return_flag: str | None = None        # column that marks a negative amount as legitimate
    nonnegative: tuple[str, ...] = ()      # money/quantity columns that must be >= 0 unless flagged
    rating_columns: bool = False           # accepts experience_*/rating_* ... columns
    ordered: tuple[tuple[str, str], ...] = ()    # (earlier, later): a row whose later is before its earlier is rejected
    distinct: tuple[tuple[str, str, str], ...] = ()   # (a, b, reason): columns that must differ in a row
    labels: dict = field(default_factory=dict, compare=False)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        if self.rating_columns and is_rating_column(name):
            return Column(name, "float", scale=DEFAULT_SCALE, description="rating on a declared scale")
        if self.rating_columns and is_kano_column(name):
            return Column(name, "int", min=1, max=5, description="Kano answer: 1 like, 2 expect it, 3 neutral, "
                          "4 can live with it, 5 dislike")
        raise KeyError(name)

    def has_column(self, name: str) -> bool:
        try:
            self.column(name)
            return True
        except KeyError:
            return False


def is_rating_column(name: str) -> bool:
    return name.startswith(RATING_PREFIXES) and len(name) > name.index("_") + 1


def is_kano_column(name: str) -> bool:
    """``kano_<feature>_functional`` / ``kano_<feature>_dysfunctional``: a Kano question's answer."""
    return bool(re.match(r"^kano_.+_(functional|dysfunctional)$", name))


CID = ("customer", "customerid", "cust_id", "custid", "member_id", "memberid", "client_id", "user_id",
       "userid", "id_customer", "会员号", "会员编号", "客户编号", "客户号", "客户id", "用户id")


def _c(name, dtype, **kw) -> Column:
    return Column(name, dtype, **kw)


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("customers", "One row per customer: profile and acquisition facts.", (
        _c("customer_id", "string", required=True, aliases=CID, description="customer identifier"),
        _c("signup_date", "date", aliases=("join_date", "registered", "registration_date", "first_date",
                                           "注册日期", "入会日期", "开户日期"), not_future=True,
           description="date the relationship began"),
        _c("name", "string", aliases=("customer_name", "姓名", "客户名称")),
        _c("gender", "string", aliases=("sex", "性别")),
        _c("birth_year", "int", min=1900, max=2100, aliases=("出生年份",)),
        _c("city", "string", aliases=("城市",)),
        _c("region", "string", aliases=("province", "地区", "省份")),
        _c("segment", "string", aliases=("customer_segment", "客户类型", "细分")),
        _c("acquisition_channel", "string", aliases=("source_channel", "获客渠道")),
        _c("owner", "string", aliases=("salesperson", "account_manager", "sales_rep", "客户经理", "销售员"),
           description="salesperson / account manager who owns the relationship (F6)"),
        _c("vip", "bool", aliases=("is_vip", "premium", "贵宾"), description="uses premium services (C3)"),
        _c("member_tier", "string", aliases=("tier", "loyalty_tier", "会员等级"),
           description="frequent-flyer / loyalty programme tier"),
        _c("category_spend", "float", min=0, aliases=("wallet", "wallet_size", "钱包规模"),
           description="customer's total yearly spend in the category, all suppliers (share of wallet, B8)"),
    ), key=("customer_id",), date_column="signup_date"),
    Table("transactions", "Purchases (orders, tickets). Negative amounts are returns and need is_return.", (
        _c("customer_id", "string", required=True, aliases=CID, customer_ref=True),
        _c("date", "timestamp", required=True, not_future=True,
           aliases=("time", "timestamp", "datetime", "order_date", "purchase_date", "transaction_date",
                    "txn_date", "invoice_date", "日期", "时间", "交易日期", "交易时间", "下单时间", "购买日期")),
        _c("amount", "float", required=True,
           aliases=("value", "revenue", "sales", "price", "total", "dollar_value", "金额", "交易金额",
                    "消费金额", "实付金额", "销售额")),
        _c("order_id", "string", aliases=("transaction_id", "txn_id", "order", "invoice", "invoice_no",
                                          "invoice_number", "订单号", "订单编号", "发票号"),
           description="order (invoice) the row belongs to; an order's lines share it"),
        _c("line", "string", aliases=("line_no", "line_number", "line_id", "item_no", "行号", "明细行号"),
           description="line of the order (line-item data); with order_id the row's key"),
        _c("cost", "float", aliases=("cost_to_serve", "成本"), description="cost of the sale/serving it"),
        _c("channel", "string", aliases=("sales_channel", "渠道", "销售渠道")),
        _c("product", "string", aliases=("product_id", "sku", "route", "item", "产品", "商品", "航线")),
        _c("category", "string", aliases=("product_category", "品类", "类别")),
        _c("quantity", "int", aliases=("qty", "units", "数量")),
        _c("is_return", "bool", aliases=("return", "refund", "is_refund", "退货")),
        _c("incentive", "bool", aliases=("points", "coupon", "promo", "incentive_flag", "积分", "优惠券"),
           description="purchase was driven by points, coupons or another incentive (C5)"),
    ), key=("order_id", "line"), order_key=("order_id",), date_column="date", return_flag="is_return",
        nonnegative=("amount", "quantity")),
    Table("subscriptions", "Contracts / memberships with start and (when cancelled) end.", (
        _c("subscription_id", "string", aliases=("contract_id", "合同号")),
        _c("customer_id", "string", required=True, aliases=CID, customer_ref=True),
        _c("start_date", "date", required=True, not_future=False, aliases=("start", "开始日期", "生效日期")),
        _c("end_date", "date", aliases=("end", "cancel_date", "cancelled", "结束日期", "退订日期"),
           description="cancellation / end date; empty while active"),
        _c("plan", "string", aliases=("product", "package", "套餐")),
        _c("amount", "float", aliases=("price", "fee", "monthly_charges", "金额", "费用")),
        _c("period", "string", allowed=("month", "quarter", "year"), aliases=("billing_period", "周期")),
    ), key=("subscription_id",), date_column="start_date", nonnegative=("amount",),
        ordered=(("start_date", "end_date"),)),
    Table("responses", "Survey answers: NPS, satisfaction, per-dimension ratings, comments.", (
        _c("response_id", "string", aliases=("survey_id", "answer_id", "问卷编号")),
        _c("customer_id", "string", aliases=CID, customer_ref=True),
        _c("date", "timestamp", required=True, not_future=True,
           aliases=("time", "timestamp", "survey_date", "response_date", "日期", "调查日期")),
        _c("nps", "int", min=0, max=10,
           aliases=("recommend", "likelihood_to_recommend", "ltr", "推荐意愿", "推荐度", "净推荐值")),
        _c("satisfaction", "float", scale=DEFAULT_SCALE,
           aliases=("overall_satisfaction", "csat", "满意度", "总体满意度")),
        _c("comment", "string", aliases=("text", "verbatim", "feedback", "评论", "意见", "留言")),
        _c("touchpoint", "string", aliases=("接触点",)),
        _c("channel", "string", aliases=("渠道",)),
        _c("product", "string", aliases=("产品",)),
        _c("wave", "string", aliases=("survey_wave", "period", "批次")),
    ), key=("response_id",), date_column="date", rating_columns=True),
    Table("complaints", "Complaints / tickets; an empty resolved date means unresolved.", (
        _c("complaint_id", "string", aliases=("ticket_id", "case_id", "投诉编号")),
        _c("customer_id", "string", required=True, aliases=CID, customer_ref=True),
        _c("opened", "timestamp", required=True, not_future=True,
           aliases=("date", "opened_at", "created", "投诉日期", "投诉时间")),
        _c("resolved", "timestamp", aliases=("resolved_at", "closed", "closed_at", "解决日期", "解决时间")),
        _c("category", "string", aliases=("type", "reason", "投诉类别", "类别")),
        _c("text", "string", aliases=("description", "comment", "内容", "投诉内容")),
        _c("channel", "string", aliases=("渠道",)),
        _c("severity", "string", aliases=("priority", "严重程度")),
    ), key=("complaint_id",), date_column="opened", ordered=(("opened", "resolved"),)),
    Table("churn_events", "Customers who left, with reason and voluntary flag.", (
        _c("customer_id", "string", required=True, aliases=CID, customer_ref=True),
        _c("date", "date", required=True, not_future=True, aliases=("churn_date", "流失日期")),
        _c("reason", "string", aliases=("churn_reason", "流失原因")),
        _c("voluntary", "bool", aliases=("is_voluntary", "自愿")),
    ), key=("customer_id", "date"), date_column="date"),
    Table("referrals", "Who referred whom.", (
        _c("referrer_id", "string", required=True, customer_ref=True, aliases=("referrer", "推荐人")),
        _c("referred_id", "string", required=True, customer_ref=True,
           aliases=("referred", "referee", "被推荐人")),
        _c("date", "date", not_future=True, aliases=("referral_date", "推荐日期")),
    ), key=("referred_id",), date_column="date", distinct=(("referrer_id", "referred_id", "self_referral"),)),
    Table("events", "Instrumented touchpoints (埋点): one row per step of a customer's journey on a channel — "
          "booking flow, check-in, refund request, call-centre IVR.", (
        _c("event_id", "string", aliases=("id", "事件编号")),
        _c("session_id", "string", aliases=("session", "visit_id", "会话编号", "会话")),
        _c("customer_id", "string", aliases=CID, customer_ref=True),
        _c("channel", "string", required=True, aliases=("渠道", "platform", "平台")),
        _c("journey", "string", required=True, aliases=("flow", "process", "旅程", "流程")),
        _c("step", "string", required=True, aliases=("stage", "page", "event", "步骤", "环节")),
        _c("step_order", "int", min=0, aliases=("step_no", "step_number", "步骤序号")),
        _c("timestamp", "timestamp", required=True, not_future=True, aliases=("time", "ts", "event_time", "datetime",
                                                                               "时间", "事件时间")),
        _c("outcome", "string", aliases=("status", "result", "结果", "状态")),
        _c("error_code", "string", aliases=("error", "错误码", "错误代码")),
    ), key=("event_id",), date_column="timestamp"),
    Table("campaigns", "Who a campaign (a retention offer) was sent to, with a randomised control group, and "
          "the outcome it aims to raise.", (
        _c("customer_id", "string", required=True, aliases=CID, customer_ref=True),
        _c("campaign", "string", required=True, aliases=("campaign_id", "campaign_name", "活动", "活动编号", "活动名称")),
        _c("date", "date", required=True, not_future=True, aliases=("sent", "send_date", "sent_date", "发送日期",
                                                                     "活动日期")),
        _c("treated", "bool", required=True, aliases=("treatment", "is_treated", "in_treatment", "实验组", "是否干预")),
        _c("outcome", "float", required=True, aliases=("result", "renewed", "retained", "converted", "response",
                                                       "结果", "是否续约", "是否留存")),
        _c("offer_cost", "float", min=0, aliases=("cost", "offer_value", "成本", "优惠成本")),
    ), key=("campaign", "customer_id"), date_column="date"),
    Table("acquisition", "What it cost to acquire each customer, and through which channel.", (
        _c("customer_id", "string", required=True, aliases=CID, customer_ref=True),
        _c("channel", "string", aliases=("acquisition_channel", "获客渠道")),
        _c("cost", "float", required=True, min=0, aliases=("acquisition_cost", "cac", "获客成本")),
        _c("date", "date", not_future=True, aliases=("acquired", "获客日期")),
    ), key=("customer_id",), date_column="date"),
)}

#: load order that satisfies customer references
TABLE_ORDER = ("customers", "acquisition", "referrals", "transactions", "subscriptions", "responses",
               "complaints", "churn_events", "campaigns", "events")


def normalize_name(name: str) -> str:
    """Column-name form used to match headers: lower case, no spaces or punctuation."""
    return re.sub(r"[\s_\-\.\(\)（）/]+", "", str(name).strip().lower())


def snake_case(name: str) -> str:
    """Turn a header into a safe snake_case column name (keeps CJK characters)."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    s = re.sub(r"[^\w]+", "_", s, flags=re.UNICODE).strip("_").lower()
    return s or "column"


def get_table(name: str) -> Table:
    from .errors import CxValueError
    if name not in TABLES:
        import difflib
        close = difflib.get_close_matches(name, TABLES, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        raise CxValueError(f"unknown table {name!r}: expected one of {', '.join(TABLES)}{hint}")
    return TABLES[name]
