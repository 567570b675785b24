"""Assessment of a fitted PLS path model (concepts D5), as a SmartPLS / seminr user expects it.

Measurement model (per latent variable, LV):

- **Cronbach's α** on the indicators' correlations: k/(k−1) · (1 − k / Σ R) (standardised α).
- **ρA** (Dijkstra & Henseler 2015): (w'w)² · w'(S − diag S)w / w'(ww' − diag ww')w, with w the
  outer weights of the standardised indicators (the LV has unit variance) and S their
  correlation matrix. 1 for single-item and formative (mode B) blocks.
- **ρc** (composite reliability, Jöreskog 1971, as SmartPLS and seminr compute it):
  (Σλ)² / ((Σλ)² + Σ(1 − λ²)) with λ the PLS outer loadings. R plspm's Dillon–Goldstein ρ uses
  the loadings of the first principal component instead (``unidimensionality_``).
- **AVE** (Fornell & Larcker 1981): mean λ².
- **HTMT** (Henseler, Ringle & Sarstedt 2015), for each pair of LVs with at least two indicators
  each: the mean absolute correlation between their indicators over the geometric mean of the
  mean absolute correlations within each block. Above 0.85 (0.90 for conceptually close
  constructs) suggests the two are not distinct.
- **Fornell–Larcker**: √AVE on the diagonal, LV score correlations below it; discriminant
  validity holds when each √AVE exceeds the LV's correlations with the others.
- **Outer VIF**: each indicator regressed on the others of its block (collinearity of formative
  indicators; shown for every block, as SmartPLS does).

Structural model:

- **Inner VIF** of each predictor of each endogenous LV (on the LV score correlations).
- **R²** and adjusted R² (in ``inner_summary_``), **f²** = (R²_with − R²_without) / (1 − R²_with),
  R²_without from the model re-estimated without that path (as seminr and SmartPLS do).
- **Q²_predict** (PLSpredict, Shmueli et al. 2016/2019): k-fold cross-validation (seeded); each
  fold's model predicts the held-out endogenous indicators from the exogenous indicators (the
  exogenous LVs' scores with the training weights, the inner model's total effects, the
  loadings); Q² = 1 − Σ(y − ŷ)² / Σ(y − ȳ_training)² per indicator, and the RMSE and MAE of the
  PLS prediction beside those of a linear regression of each indicator on all exogenous
  indicators (the benchmark PLSpredict compares with).
- **SRMR** (saturated model): the root mean square of the differences between the indicators'
  correlations and those the model implies (λ_i λ_j within a reflective block — a formative
  block leaves its items' correlations free —, λ_i λ_j ρ(LV_a, LV_b) between blocks a and b),
  over the p(p+1)/2 distinct elements. Below 0.08 is the usual rule of thumb.

Validated against seminr (R) on its ``mobi`` data (reliability, HTMT, Fornell–Larcker, VIF,
R², f²) and its corporate-reputation PLSpredict fixture (tests/perception/test_pls_assess.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["reliability", "htmt", "fornell_larcker", "outer_vif", "inner_vif", "f_squared", "q2_predict",
           "srmr", "assessment"]


def _blocks(model) -> dict[str, list[str]]:
    om = model.outer_model_
    return {lv: om.loc[om["block"] == lv, "name"].tolist() for lv in model.lvs_}


def _corr(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.corr()


def reliability(model) -> pd.DataFrame:
    """One row per LV: mode, items, cronbach_alpha, rho_a, rho_c, ave."""
    R = _corr(model.manifests_)
    om = model.outer_model_.set_index("name")
    rows = []
    for lv, items in _blocks(model).items():
        k, mode = len(items), model.modes_[lv]
        lam = om.loc[items, "loading"].to_numpy()
        if k == 1:
            alpha = rho_a = rho_c = ave = 1.0
        else:
            S = R.loc[items, items].to_numpy()
            alpha = k / (k - 1) * (1 - k / S.sum())
            rho_c = lam.sum() ** 2 / (lam.sum() ** 2 + np.sum(1 - lam ** 2))
            ave = float(np.mean(lam ** 2))
            if mode == "B":
                rho_a = 1.0
            else:
                w = om.loc[items, "weight"].to_numpy() * _weight_scale(model, items)
                off = S - np.diag(np.diag(S))
                ww = np.outer(w, w)
                rho_a = (w @ w) ** 2 * (w @ off @ w) / (w @ (ww - np.diag(np.diag(ww))) @ w)
        rows.append({"lv": lv, "mode": mode, "items": k, "cronbach_alpha": float(alpha), "rho_a": float(rho_a),
                     "rho_c": float(rho_c), "ave": float(ave)})
    return pd.DataFrame(rows)


def _weight_scale(model, items) -> np.ndarray:
    """Factor turning the reported outer weights into weights of standardised indicators
    (1 for a scaled model; the indicators' SD when the model was fitted unscaled)."""
    if getattr(model, "scaled", True):
        return np.ones(len(items))
    return model.manifests_[items].std(ddof=0).to_numpy()


def htmt(model) -> pd.DataFrame:
    """One row per pair of LVs (``lv_a``, ``lv_b`` in model order, ``htmt``); NaN when either
    block has a single indicator (the ratio needs correlations within each block)."""
    from .plspm import _htmt
    sizes = np.bincount(model._blockinds, minlength=len(model.lvs_))
    pairs = [(a, b) for a in range(len(model.lvs_)) for b in range(a + 1, len(model.lvs_))]
    ok = [p for p in pairs if sizes[p[0]] > 1 and sizes[p[1]] > 1]
    values = dict(zip(ok, _htmt(model.manifests_.to_numpy(float), model._blockinds, ok))) if ok else {}
    return pd.DataFrame([{"lv_a": model.lvs_[a], "lv_b": model.lvs_[b], "htmt": float(values.get((a, b), np.nan))}
                         for a, b in pairs])


def fornell_larcker(model) -> pd.DataFrame:
    """Square matrix (LVs × LVs): √AVE on the diagonal, LV score correlations below it, NaN above."""
    C = model.scores_.corr().to_numpy()
    ave = reliability(model).set_index("lv").loc[model.lvs_, "ave"].to_numpy()
    out = np.tril(C, -1) + np.diag(np.sqrt(ave))
    out[np.triu_indices(len(ave), 1)] = np.nan
    return pd.DataFrame(out, index=pd.Index(model.lvs_, name="lv"), columns=model.lvs_)


def _vif(R: np.ndarray) -> np.ndarray:
    """VIF of each variable given the correlation matrix ``R`` of a set of variables."""
    if len(R) == 1:
        return np.ones(1)
    return np.diag(np.linalg.inv(R))


def outer_vif(model) -> pd.DataFrame:
    """One row per indicator (``lv``, ``item``, ``vif`` on the other indicators of its block)."""
    R = _corr(model.manifests_)
    rows = []
    for lv, items in _blocks(model).items():
        for item, v in zip(items, _vif(R.loc[items, items].to_numpy())):
            rows.append({"lv": lv, "item": item, "vif": float(v)})
    return pd.DataFrame(rows)


def _predecessors(model) -> dict[str, list[str]]:
    P = model.path_coefs_
    return {to: [f for f in P.columns if model._P[model.lvs_.index(to), model.lvs_.index(f)]]
            for to in model.lvs_ if model._P[model.lvs_.index(to)].any()}


def inner_vif(model) -> pd.DataFrame:
    """One row per path (``from``, ``to``, ``vif`` of the predictor among the LV's predictors)."""
    C = model.scores_.corr()
    rows = []
    for to, pred in _predecessors(model).items():
        for f, v in zip(pred, _vif(C.loc[pred, pred].to_numpy())):
            rows.append({"from": f, "to": to, "vif": float(v)})
    return pd.DataFrame(rows)


def f_squared(model) -> pd.DataFrame:
    """One row per path (``from``, ``to``, ``f_squared``): the model is re-estimated without
    each path in turn (same settings); 0.02 / 0.15 / 0.35 are small / medium / large (Cohen)."""
    r2 = model.inner_summary_.set_index("lv")["r_squared"]
    pred = _predecessors(model)
    blocks = _blocks(model)
    rows = []
    for to, frm in pred.items():
        for f in frm:
            rest = {t: [x for x in p if not (t == to and x == f)] for t, p in pred.items()}
            rest = {t: p for t, p in rest.items() if p}
            without = 0.0
            if to in rest:   # an LV left without any path has no influence on the others: dropped
                used = {x for t, p in rest.items() for x in [t, *p]}
                refit = _refit(model, {lv: it for lv, it in blocks.items() if lv in used}, rest)
                without = float(refit.inner_summary_.set_index("lv").loc[to, "r_squared"])
            rows.append({"from": f, "to": to,
                         "f_squared": float((r2[to] - without) / (1 - r2[to]))})
    return pd.DataFrame(rows)


def _refit(model, blocks, paths, data=None):
    import copy
    m = copy.copy(model)
    m.n_boot = 0
    src = model.manifests_ if data is None else data
    return type(model).fit(m, src, blocks=blocks, paths=paths, modes=model.modes_)


def q2_predict(model, *, folds: int = 10, random_state=0) -> pd.DataFrame:
    """PLSpredict: one row per endogenous indicator (``lv``, ``item``, ``q2_predict``,
    ``rmse_pls``, ``mae_pls``, ``rmse_lm``, ``mae_lm``), on ``folds``-fold cross-validation
    (``folds`` = the number of rows: leave-one-out, deterministic). Each fold re-estimates the
    model's weights, loadings and paths on the training rows (the fit's settings)."""
    from .plspm import _core
    data = model.manifests_
    blocks = _blocks(model)
    pred = _predecessors(model)
    lvs = list(model.lvs_)
    exo = [lv for lv in lvs if lv not in pred]
    endo = [lv for lv in lvs if lv in pred]
    cols = list(data.columns)
    x_items = [i for lv in exo for i in blocks[lv]]
    y_items = [i for lv in endo for i in blocks[lv]]
    xi, yi = [cols.index(c) for c in x_items], [cols.index(c) for c in y_items]
    block_of = {c: lvs.index(model.outer_model_.set_index("name").loc[c, "block"]) for c in cols}
    modes = [model.modes_[lv] for lv in lvs]
    M = data.to_numpy(float)
    n = len(M)
    folds = int(min(max(folds, 2), n))
    fold_of = np.random.default_rng(random_state).permutation(np.arange(n) % folds)
    y_pls, y_lm = np.full((n, len(yi)), np.nan), np.full((n, len(yi)), np.nan)
    y_naive = np.full((n, len(yi)), np.nan)
    eye = np.eye(len(lvs))
    for k in range(folds):
        test = fold_of == k
        train = M[~test]
        mu, sd = train.mean(axis=0), train.std(axis=0)
        scale = sd if model.scaled else np.ones_like(sd)
        res = _core((train - mu) / scale, model._P, model._ODM, model._blockinds, modes, model.scheme, model.tol,
                    int(model.max_iter))
        W, lam = res["W"], res["loadings"]
        T = np.linalg.solve(eye - res["B"], eye)       # total effects, row = to
        s_test = ((M[test] - mu) / scale) @ W           # the training weights give unit-variance training scores
        s_train = res["LV"]
        s_test = (s_test - s_train.mean(axis=0)) / s_train.std(axis=0)
        e_idx = [lvs.index(e) for e in exo]
        A_train = np.column_stack([np.ones(len(train)), train[:, xi]])
        A_test = np.column_stack([np.ones(int(test.sum())), M[test][:, xi]])
        for j, c in enumerate(yi):
            b = block_of[cols[c]]
            eta = s_test[:, e_idx] @ T[b, e_idx]
            y_pls[test, j] = mu[c] + sd[c] * lam[c] * eta
            coef = np.linalg.lstsq(A_train, train[:, c], rcond=None)[0]
            y_lm[test, j] = A_test @ coef
            y_naive[test, j] = mu[c]
    Y = M[:, yi]
    rows = []
    for j, item in enumerate(y_items):
        e, el, e0 = Y[:, j] - y_pls[:, j], Y[:, j] - y_lm[:, j], Y[:, j] - y_naive[:, j]
        rows.append({"lv": lvs[block_of[item]], "item": item,
                     "q2_predict": float(1 - e @ e / (e0 @ e0)), "rmse_pls": float(np.sqrt(np.mean(e ** 2))),
                     "mae_pls": float(np.mean(np.abs(e))), "rmse_lm": float(np.sqrt(np.mean(el ** 2))),
                     "mae_lm": float(np.mean(np.abs(el)))})
    return pd.DataFrame(rows)


def srmr(model) -> float:
    """Standardised root mean square residual of the saturated model."""
    items = list(model.manifests_.columns)
    R = _corr(model.manifests_).to_numpy()
    om = model.outer_model_.set_index("name").loc[items]
    lam = om["loading"].to_numpy()
    block = om["block"].to_numpy()
    C = model.scores_.corr()
    lv_cor = C.loc[block, block].to_numpy()
    implied = np.outer(lam, lam) * lv_cor
    formative = np.array([model.modes_[b] == "B" for b in block])
    same = block[:, None] == block[None, :]
    implied = np.where(same & formative[:, None], R, implied)   # a composite leaves its items' correlations free
    np.fill_diagonal(implied, 1.0)
    lower = np.tril_indices(len(items))
    return float(np.sqrt(np.mean((R - implied)[lower] ** 2)))


def assessment(model, *, q2_folds: int = 10, random_state=0) -> dict:
    """Every figure above for a fitted :class:`~cxvalue.perception.plspm.PLSPM`: a dict of tidy
    frames (``reliability``, ``htmt``, ``fornell_larcker``, ``outer_vif``, ``inner_vif``,
    ``f_squared``, ``q2_predict``, ``r_squared``) and the ``srmr``."""
    inner = model.inner_summary_
    return {
        "reliability": reliability(model), "htmt": htmt(model), "fornell_larcker": fornell_larcker(model),
        "outer_vif": outer_vif(model), "inner_vif": inner_vif(model), "f_squared": f_squared(model),
        "q2_predict": q2_predict(model, folds=q2_folds, random_state=random_state),
        "r_squared": inner.loc[inner["type"] == "Endogenous", ["lv", "r_squared", "r_squared_adj"]]
                          .reset_index(drop=True),
        "srmr": srmr(model),
    }
