"""The JSON contract of `amx budget allocate|forecast --json`: text in, text out, or InvalidInput
naming the first problem (the path of the bad field and what is wrong with it)."""

import json

from pydantic import BaseModel, ValidationError

from affiliate_matrix.errors import InvalidInput

MAX_INPUT = 256 * 1024 * 1024


def parse(model: type[BaseModel], text: str | bytes) -> BaseModel:
    if len(text) > MAX_INPUT:
        raise InvalidInput(f"the input is larger than {MAX_INPUT // (1024 * 1024)} MiB")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the input is not JSON: {exc}") from None
    except RecursionError:  # the decoder's depth is Python's recursion limit
        raise InvalidInput("the input is nested too deeply to be a request") from None
    if not isinstance(data, dict):
        raise InvalidInput("the input must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise problem(exc) from None


def problem(exc: ValidationError) -> InvalidInput:
    """The first error of a request's validation, naming the path of the field (a check of the whole request names
    its field in its message)."""
    err = exc.errors(include_url=False)[0]
    message = err["msg"].removeprefix("Value error, ")
    return InvalidInput(f"{'.'.join(str(part) for part in err['loc'])}: {message}" if err["loc"] else message)


def allocate_json(text: str | bytes, metric: str = "revenue") -> str:
    from affiliate_matrix.budget.allocate import allocate
    from affiliate_matrix.budget.models import AllocateRequest

    return allocate(parse(AllocateRequest, text), metric=metric).model_dump_json()


def forecast_json(text: str | bytes) -> str:
    from affiliate_matrix.budget.forecast import forecast
    from affiliate_matrix.budget.models import ForecastRequest

    return forecast(parse(ForecastRequest, text)).model_dump_json()
