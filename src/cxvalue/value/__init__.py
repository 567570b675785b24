"""Customer value (concepts.md B): probabilistic CLV ("buy till you die") models.

Non-contractual, continuous time: :class:`BetaGeoModel` (BG/NBD),
:class:`ModifiedBetaGeoModel` (MBG/NBD), :class:`ParetoNBDModel` (Pareto/NBD);
discrete occasions: :class:`BetaGeoBetaBinomModel` (BG/BB); contractual:
:class:`ShiftedBetaGeoModel` (sBG); spend per transaction: :class:`GammaGammaModel`.
CLV over a horizon: :func:`customer_lifetime_value`; model checking in
:mod:`cxvalue.value.checking`. See docs/value.md.
"""
from __future__ import annotations

from ..errors import one_of
from .base import BaseBTYDModel, TransactionModel
from .bgbb import BetaGeoBetaBinomModel
from .bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from .checking import calibration_vs_holdout, compare_models, cumulative_tracking
from .clv import customer_lifetime_value
from .gammagamma import GammaGammaModel
from .paretonbd import ParetoNBDModel
from .sbg import ShiftedBetaGeoModel

__all__ = [
    "BaseBTYDModel", "TransactionModel",
    "BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel", "BetaGeoBetaBinomModel",
    "ShiftedBetaGeoModel", "GammaGammaModel",
    "MODELS", "fit_model", "customer_lifetime_value",
    "calibration_vs_holdout", "cumulative_tracking", "compare_models",
]

#: model strings accepted by :func:`fit_model`, in documentation order
MODELS = {
    "bgnbd": BetaGeoModel,
    "mbgnbd": ModifiedBetaGeoModel,
    "paretonbd": ParetoNBDModel,
    "bgbb": BetaGeoBetaBinomModel,
    "sbg": ShiftedBetaGeoModel,
    "gammagamma": GammaGammaModel,
}


def fit_model(model: str, data, *, model_options: dict | None = None, **fit_options):
    """Build the model named ``model`` and fit it: ``fit_model("bgnbd", summary)``.

    ``model`` is one of "bgnbd", "mbgnbd", "paretonbd", "bgbb", "sbg", "gammagamma";
    ``model_options`` go to the constructor (n_starts, maxiter, tol) and the other keyword
    arguments to ``fit`` (column names, weights_col, customer_col, cohort_col for sBG).
    """
    one_of("model", model, MODELS)
    return MODELS[model](**(model_options or {})).fit(data, **fit_options)
