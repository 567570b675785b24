"""Issue 13: degenerate BTYD fits are flagged (typed warning, penalizer, a comparison that skips
them), the holdout check from the CLI, the margin stated when assumed."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from cli_runner import cx
from cxvalue.errors import ConvergenceWarning
from cxvalue.value import BetaGeoModel


def _nobody_leaves(seed=0, n=3000):
    """Poisson buyers who never drop out, seen right up to the end: BG/NBD's a goes to 0."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(30, 52, n)
    lam = rng.gamma(2, 0.1, n)
    x = rng.poisson(lam * T)
    tx = np.where(x > 0, T - rng.uniform(0, 0.5, n), 0.0)
    return pd.DataFrame({"frequency": x, "recency": np.minimum(tx, T), "T": T})


def test_a_fit_at_the_edge_is_not_converged_and_says_what_to_try():
    d = _nobody_leaves()
    with pytest.warns(ConvergenceWarning, match=r"degenerate fit — a = .* at the edge of the parameter space.*"
                                                r"penalizer=0\.01"):
        m = BetaGeoModel().fit(d)
    assert not m.converged_ and "edge" in m.degenerate_ and m.params_["a"] < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        p = BetaGeoModel(penalizer=0.01).fit(d)           # the ridge keeps it inside
    assert p.converged_ and not p.degenerate_ and 1e-3 < p.params_["a"] < 1
    assert np.isfinite(p.summary_.std_error).all()
    assert p.loglik_ < m.loglik_ + 1e-6                    # the likelihood itself, without the penalty


def test_penalizer_is_checked():
    from cxvalue.errors import CxValueError
    with pytest.raises(CxValueError, match="penalizer must be a number >= 0"):
        BetaGeoModel(penalizer=-1).fit(_nobody_leaves(n=200))


def test_a_plain_fit_is_unchanged_and_not_degenerate(shared_data):
    d = pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")
    m = BetaGeoModel().fit(d[["frequency", "recency", "T"]])
    assert m.converged_ and m.degenerate_ == ""
    np.testing.assert_allclose(m.params_.to_numpy(), [0.2426, 4.4135, 0.7929, 2.4259], rtol=1e-3)


def test_clv_holdout_comparison_and_assumed_margin_from_the_cli(tmp_path, shared_data):
    d = pd.read_csv(shared_data / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                    names=["master_id", "customer_id", "date", "qty", "amount"], dtype={"date": str})
    d["date"] = pd.to_datetime(d.date, format="%Y%m%d").dt.date
    d[["customer_id", "date", "amount"]].to_csv(tmp_path / "tx.csv", index=False)
    r = cx("clv", tmp_path / "tx.csv", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30",
           "--model", "auto", "--json")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    blocks = {b["id"]: b for b in v["blocks"]}
    hold = {row["calibration_frequency"]: row for row in blocks["clv-holdout"]["rows"]}
    assert list(hold) == ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]
    assert hold["all"]["actual_total"] == 1882                 # FHL 2005: holdout weeks 40-78
    comp = blocks["clv-fit"]["rows"]
    assert {row["model"] for row in comp} == {"bgnbd", "mbgnbd", "paretonbd"}
    assert sum(row["chosen"] == "✓" for row in comp) == 1 and all("holdout_error" in row for row in comp)
    assert {k["key"] for k in blocks["clv-tracking"]["items"]} >= {"tracking_error_end", "tracking_mape"}
    assert v["meta"]["margin_source"] == "assumed"
    assert any("Margin assumed 100%" in w["message"] for w in blocks["clv-kpis"]["warnings"])
    # a holdout needs a calibration end
    r = cx("clv", tmp_path / "tx.csv", "--holdout-end", "1998-06-30")
    assert r.returncode == 1 and "--holdout-end needs --calibration-end" in r.stderr


def test_the_comparison_skips_a_degenerate_model():
    from types import SimpleNamespace

    from cxvalue.errors import SmallSampleWarning
    from cxvalue.value.customer_value import _model_comparison

    def fit(bic, degenerate="", converged=True):
        return SimpleNamespace(loglik_=-bic / 2, aic_=bic, bic_=bic, converged_=converged and not degenerate,
                               degenerate_=degenerate)
    comp = _model_comparison({"bgnbd": fit(100.0, "a = 3e-07 at the edge"), "mbgnbd": fit(105.0),
                              "paretonbd": fit(101.0, converged=False)}, None)
    assert comp.set_index("model").chosen.to_dict() == {"bgnbd": False, "mbgnbd": True, "paretonbd": False}
    with pytest.warns(SmallSampleWarning, match="every transaction model's fit is degenerate"):
        comp = _model_comparison({"bgnbd": fit(100.0, "edge"), "mbgnbd": fit(99.0, "edge")}, None)
    assert comp.set_index("model").chosen.to_dict() == {"bgnbd": False, "mbgnbd": True}
