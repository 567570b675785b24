"""Customer value (concepts.md B): probabilistic CLV ("buy till you die") models.

Non-contractual, continuous time: :class:`BetaGeoModel` (BG/NBD),
:class:`ModifiedBetaGeoModel` (MBG/NBD), :class:`ParetoNBDModel` (Pareto/NBD);
discrete occasions: :class:`BetaGeoBetaBinomModel` (BG/BB); contractual:
:class:`ShiftedBetaGeoModel` (sBG); spend per transaction: :class:`GammaGammaModel`.
CLV over a horizon: :func:`customer_lifetime_value`; model checking in
:mod:`cxvalue.value.checking`. See docs/value.md.
"""
from __future__ import annotations

_WHERE = {
    "BaseBTYDModel": "base", "TransactionModel": "base",
    "BetaGeoModel": "bgnbd", "ModifiedBetaGeoModel": "bgnbd", "ParetoNBDModel": "paretonbd",
    "BetaGeoBetaBinomModel": "bgbb", "ShiftedBetaGeoModel": "sbg", "GammaGammaModel": "gammagamma",
    "customer_lifetime_value": "clv",
    "calibration_vs_holdout": "checking", "cumulative_tracking": "checking", "compare_models": "checking",
}
__all__ = [*_WHERE, "MODELS", "fit_model"]

#: model strings accepted by :func:`fit_model`, in documentation order, with their classes
MODEL_NAMES = {"bgnbd": "BetaGeoModel", "mbgnbd": "ModifiedBetaGeoModel", "paretonbd": "ParetoNBDModel",
               "bgbb": "BetaGeoBetaBinomModel", "sbg": "ShiftedBetaGeoModel", "gammagamma": "GammaGammaModel"}


def __getattr__(name):  # lazy: importing the CLI must not load scipy
    from importlib import import_module
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    if name == "MODELS":
        return {k: __getattr__(v) for k, v in MODEL_NAMES.items()}
    raise AttributeError(f"module 'cxvalue.value' has no attribute {name!r}")


def fit_model(model: str, data, *, model_options: dict | None = None, **fit_options):
    """Build the model named ``model`` and fit it: ``fit_model("bgnbd", summary)``.

    ``model`` is one of "bgnbd", "mbgnbd", "paretonbd", "bgbb", "sbg", "gammagamma";
    ``model_options`` go to the constructor (n_starts, maxiter, tol) and the other keyword
    arguments to ``fit`` (column names, weights_col, customer_col, cohort_col for sBG).
    """
    from ..errors import one_of
    one_of("model", model, MODEL_NAMES)
    return __getattr__(MODEL_NAMES[model])(**(model_options or {})).fit(data, **fit_options)
