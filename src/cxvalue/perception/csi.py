"""Customer satisfaction index on survey data: pick or read a path model, fit it with
:class:`~cxvalue.perception.plspm.PLSPM`, and tabulate indices and paths (concepts D5).

A model is a template name (``"ecsi"``, ``"acsi"``, ``"contract"``; see
:data:`~cxvalue.perception.plspm.TEMPLATES`) or a YAML/JSON file::

    name: my bank index          # optional
    blocks:                      # latent variable → its indicator columns
      IMAG: [imag1, imag2, imag3]
      SAT:  [sat1, sat2, sat3]
      LOY:  [loy1, loy2]
    paths:                       # endogenous latent variable → its predecessors
      SAT: [IMAG]
      LOY: [IMAG, SAT]
    modes: A                     # optional: A (reflective, default) / B, or a dict per LV
    scaled: false                # optional: standardise the items (default false: one answer scale)
    item_range: [0, 10]          # optional: answer scale for the 0-100 index
    labels: {SAT: {en: Satisfaction, zh: 满意度}}   # optional
    higher_order: {QUALITY: [PRODUCT, SERVICE]}      # optional: higher-order constructs and their dimensions
    hoc_method: two_stage        # or repeated (repeated indicators); see PLSPM.fit

Indicator names are matched to the data's columns exactly, then ignoring case, then with
the ``rating_`` prefix the responses contract gives extra survey items (``imag1`` ↔
``rating_imag1``). Without a model, the first template whose items are all present is
used (ECSI, ACSI, then the contract model on ``experience_*``, ``satisfaction``, ``nps``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CxValueError
from .plspm import PLSPM, TEMPLATES, model_template

__all__ = ["resolve_model", "fit_csi", "csi_tables", "item_scale"]


def _match(item: str, columns) -> str | None:
    cols = [str(c) for c in columns]
    if item in cols:
        return item
    low = {c.lower(): c for c in cols}
    for cand in (item.lower(), f"rating_{item}".lower()):
        if cand in low:
            return low[cand]
    return None


def _resolve_blocks(blocks: dict, columns) -> tuple[dict, list[str]]:
    out, missing = {}, []
    for lv, items in blocks.items():
        items = [items] if isinstance(items, str) else list(items)
        got = []
        for it in items:
            c = _match(str(it), columns)
            if c is None:
                missing.append(str(it))
            else:
                got.append(c)
        out[str(lv)] = got
    return out, missing


def _read_model_file(path: Path) -> dict:
    import yaml
    try:
        text = path.read_text(encoding="utf-8")
        spec = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise CxValueError(f"model file {str(path)!r} cannot be read: {exc}") from None
    if not isinstance(spec, dict) or "blocks" not in spec or "paths" not in spec:
        raise CxValueError(f"model file {path.name}: expected a mapping with 'blocks' (latent variable → columns) "
                           "and 'paths' (latent variable → predecessors); see docs/perception.md")
    spec.setdefault("modes", "A")
    spec.setdefault("name", path.stem)
    return spec


def resolve_model(columns, model=None) -> dict:
    """The model to fit on data with these ``columns``: a dict with ``name``, ``blocks``
    (resolved to the data's column names), ``paths``, ``modes``, ``labels`` and
    ``item_range`` (None when not given). ``model``: None (detect), a template name, a
    path to a YAML/JSON file, or a dict."""
    columns = [str(c) for c in columns]
    if model is None:
        for name in TEMPLATES:
            blocks, missing = _resolve_blocks(TEMPLATES[name]["blocks"], columns)
            if not missing:
                spec = model_template(name)
                spec.update(name=name, blocks=blocks, item_range=None)
                return spec
        raise CxValueError("no satisfaction index model fits these columns: give --model ecsi|acsi|contract or a "
                           "YAML model file (blocks and paths); ECSI needs imag1..imag5, expe1..expe5, qual1..qual5, "
                           "val1..val4, sat1..sat4, loy1..loy4")
    if isinstance(model, dict):
        spec = dict(model)
        spec.setdefault("name", "custom")
        spec.setdefault("modes", "A")
    elif str(model).lower() in TEMPLATES:
        spec = model_template(str(model).lower())
        spec["name"] = str(model).lower()
    else:
        p = Path(str(model))
        if p.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise CxValueError(f"model={model!r} is not valid: expected one of {', '.join(TEMPLATES)} or a "
                               ".yaml/.json model file")
        if not p.exists():
            raise CxValueError(f"model file {str(p)!r} not found")
        spec = _read_model_file(p)
    blocks, missing = _resolve_blocks(spec["blocks"], columns)
    if missing:
        raise CxValueError(f"model {spec['name']!r}: indicator column(s) {missing[:8]} not in the data; columns: "
                           f"{', '.join(columns[:20])}")
    spec["blocks"] = blocks
    spec.setdefault("item_range", None)
    spec.setdefault("labels", None)
    return spec


def fit_csi(data: pd.DataFrame, model=None, *, scheme: str = "centroid", scaled: bool | None = None, n_boot: int = 0,
            random_state=0, missing: str = "listwise", tol: float = 1e-6) -> tuple[PLSPM, dict]:
    """Resolve the model on ``data`` and fit it; returns (fitted PLSPM, model spec).

    ``scaled`` (standardise the indicators) defaults to the model's ``scaled`` entry, else
    False: satisfaction-index items share one answer scale, and the ECSI reference results
    (R plspm on the bank data) are unscaled. ``tol``: the stopping rule of the outer weights
    (R plspm's 1e-6 by default; formative blocks may need 1e-10 to settle to 1e-6)."""
    spec = resolve_model(data.columns, model)
    if scaled is None:
        scaled = bool(spec.get("scaled", False))
    spec["scaled"] = scaled
    pls = PLSPM(scheme=scheme, scaled=scaled, n_boot=n_boot, random_state=random_state, missing=missing, tol=tol,
                max_iter=1000 if tol < 1e-6 else 100)
    pls.fit(data, blocks=spec["blocks"], paths=spec["paths"], modes=spec.get("modes", "A"),
            higher_order=spec.get("higher_order"), hoc_method=spec.get("hoc_method", "two_stage"))
    return pls, spec


SCALES = ((0, 10), (1, 10), (1, 7), (1, 5), (0, 5), (0, 100), (1, 100))   # the usual answer scales


def item_scale(spec: dict, data: pd.DataFrame, item_range=None, declared: dict | None = None):
    """The answer scale of the model's items for the 0-100 index and where it comes from:
    ``item_range`` given (``"option"``), the model file's ``item_range`` (``"model file"``), the
    scales the data contract declared for the items when loaded (``declared``, column → (low,
    high): ``"data contract"``), else assumed from the answers (``"assumed"``, with a
    warning): the usual scale that starts at the lowest answer and holds the highest (1-10 for
    answers 1..10, 0-10 for 0..10), else the answers' range. Returns ((low, high) or
    {item: (low, high)}, source)."""
    if item_range is not None:
        return tuple(item_range), "option"
    if spec.get("item_range") is not None:
        return tuple(spec["item_range"]), "model file"
    cols = [c for v in spec["blocks"].values() for c in v]
    if declared and all(c in declared for c in cols):
        per = {c: tuple(declared[c]) for c in cols}
        one = set(per.values())
        return (one.pop() if len(one) == 1 else per), "data contract"
    lo = float(np.nanmin(data[cols].to_numpy(float)))
    hi = float(np.nanmax(data[cols].to_numpy(float)))
    fits = [(a, b) for a, b in SCALES if a == lo and hi <= b] or [(a, b) for a, b in SCALES if a <= lo and hi <= b]
    rng = fits[0] if fits else (lo, hi)
    from ..i18n import warn
    warn("warn_csi_scale_assumed", stacklevel=3, low=f"{rng[0]:g}", high=f"{rng[1]:g}", lo=f"{lo:g}", hi=f"{hi:g}")
    return rng, "assumed"


def csi_tables(pls: PLSPM, spec: dict, data: pd.DataFrame | None = None, *, by: str | None = None,
               item_range=None, declared: dict | None = None) -> dict[str, pd.DataFrame]:
    """Result tables of a fitted index model: ``csi_scores`` (``model``, ``lv``, ``segment``,
    ``index`` (0-100), ``score`` (raw scale), ``n``, ``r_squared``, ``r_squared_adj``, ``gof``) — overall and, with
    ``by`` (a column of ``data``), per segment using the overall weights (as the ACSI
    does) — and ``csi_paths`` (``model``, ``relationship``, ``from``, ``to``,
    ``estimate``, ``std_error``, ``t_value``, ``p_value`` and bootstrap ``ci_low`` /
    ``ci_high`` when fitted with ``n_boot``)."""
    data = pls.manifests_ if data is None else data
    rng, source = item_scale(spec, pls.manifests_, item_range, declared)
    idx = pls.indices(item_range=rng)
    per = pls.index_scores(item_range=rng)
    r2 = pls.inner_summary_.set_index("lv")["r_squared"]
    idx["segment"] = "all"
    frames = [idx]
    if by is not None:
        if by not in data.columns:
            raise CxValueError(f"by={by!r} is not a column of the survey data")
        seg = data.loc[per.index, by].astype(str)
        g = per.groupby(seg.to_numpy())
        means, counts = g.mean(), g.size()
        for s in means.index:
            frames.append(pd.DataFrame({"lv": means.columns, "index": means.loc[s].to_numpy(),
                                        "score": np.nan, "n": int(counts.loc[s]), "segment": str(s)}))
    scores = pd.concat(frames, ignore_index=True)
    scores["r_squared"] = scores["lv"].map(r2)
    scores["r_squared_adj"] = scores["lv"].map(pls.inner_summary_.set_index("lv")["r_squared_adj"])
    scores.insert(0, "model", spec["name"])
    scores["gof"] = pls.gof_
    scores["by"] = by or ""    # the breakdown of the segments ("": overall only)
    scores = scores[["model", "lv", "segment", "index", "score", "n", "r_squared", "r_squared_adj", "gof", "by"]]
    paths = pls.paths_.copy()
    if getattr(pls, "bootstrap_", None) is not None:
        # one inference throughout: the bootstrap's standard error, t, p and intervals
        b = pls.bootstrap_[pls.bootstrap_["kind"] == "path"].set_index("name")
        for col in ("std_error", "t_value", "p_value", "ci_low", "ci_high", "bca_low", "bca_high"):
            paths[col] = paths["relationship"].map(b[col])
        paths["inference"] = f"bootstrap ({pls.bootstrap_.attrs.get('n_boot', pls.n_boot)} resamples)"
    else:
        paths["ci_low"] = paths["ci_high"] = paths["bca_low"] = paths["bca_high"] = np.nan
        paths["inference"] = "ols"
    paths.insert(0, "model", spec["name"])
    scores.attrs["item_range"] = rng
    scores.attrs["item_range_source"] = source
    return {"csi_scores": scores, "csi_paths": paths}
