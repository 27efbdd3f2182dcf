"""What each API answers to a domain error: unit tests of domain modules check the HTTP answer as well."""

from __future__ import annotations

from collections.abc import Callable

from mockserver.core.errors import ApiError
from mockserver.gateai import task_errors
from mockserver.skytells import prediction_errors
from mockserver.skytells.inference import errors as inference_errors


def _answer(api_error: Callable[[Exception], ApiError | None], error: BaseException) -> ApiError:
    answer = api_error(error) if isinstance(error, Exception) else None
    assert answer is not None, f"not a domain error this API answers: {error!r}"
    return answer


def inference_answer(error: BaseException) -> ApiError:
    """The Inference API's answer to ``error``."""
    return _answer(inference_errors.api_error, error)


def predictions_answer(error: BaseException) -> ApiError:
    """The Predictions and Models APIs' answer to ``error``."""
    return _answer(prediction_errors.api_error, error)


def gateai_answer(error: BaseException) -> ApiError:
    """GateAI's answer to ``error``."""
    return _answer(task_errors.api_error, error)
