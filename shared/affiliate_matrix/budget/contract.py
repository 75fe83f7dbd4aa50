"""The JSON contract of `amx budget allocate|forecast --json`: text in, text out, or InvalidInput
naming the first problem (the path of the bad field and what is wrong with it)."""

import json

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from affiliate_matrix.errors import InvalidInput

MAX_INPUT = 256 * 1024 * 1024


def parse(model: type[BaseModel], text: str | bytes) -> BaseModel:
    if len(text) > MAX_INPUT:
        raise InvalidInput(f"the input is larger than {MAX_INPUT // (1024 * 1024)} MiB")
    try:
        data = read_json(text)
    except ValueError as exc:
        raise InvalidInput(f"the input is not JSON: {exc}") from None
    except RecursionError:  # the decoder's depth is Python's recursion limit
        raise InvalidInput("the input is nested too deeply to be a request") from None
    if not isinstance(data, dict):
        raise InvalidInput("the input must be a JSON object")
    dated_as_the_api(data.get("campaigns"))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise problem(exc) from None


def read_json(text: str | bytes) -> object:
    """What json.loads reads from `text`, read by pydantic's parser where it can: json's was a third of a forecast's
    CPU, pydantic's takes a third as long and reads every JSON number, string and duplicate key as json does. What it
    refuses and json may read (a lone surrogate, UTF-16, a BOM before bytes, a number past a float's range, nesting
    past its depth) is read by json, which reads it or names the fault as it always did."""
    try:
        return from_json(text)
    except (ValueError, TypeError):  # TypeError: a str holding a lone surrogate, which UTF-8 cannot carry
        return json.loads(text)


def dated_as_the_api(campaigns: object) -> None:
    """InvalidInput naming the campaign and the date when a day of `campaigns` (a request's, as read) is not dated
    YYYY-MM-DD exactly, the API's and the CSV import's rule (iso_day): pydantic's date also reads a midnight
    (`2026-01-05T00:00`) or a Unix time (`1767571200`, as text or a number) as some day, maybe not the one meant. The
    campaigns share their calendar, so each distinct date is checked once (a check per day was a quarter of the
    parse); what is not a list of objects is left to the model to name."""
    from affiliate_matrix.budget.model_types import NOT_A_DAY, iso_day

    if not isinstance(campaigns, list):
        return
    histories = [(i, c) for i, c in enumerate(campaigns) if type(c) is dict and type(c.get("history")) is list]
    try:
        dates = {row["date"] for _, c in histories for row in c["history"] if type(row) is dict and "date" in row}
        if all(iso_day(d) for d in dates):
            return
    except TypeError:  # a date no set holds (a list, an object): not a day either, found below
        pass
    for i, campaign in histories:
        for j, row in enumerate(campaign["history"]):
            if type(row) is dict and "date" in row and not iso_day(row["date"]):
                raise InvalidInput(f"campaigns.{i}.history.{j}.date: campaign {str(campaign.get('id'))[:60]}: "
                                   f"{repr(row['date'])[:60]} {NOT_A_DAY}")


def problem(exc: ValidationError) -> InvalidInput:
    """The first error of a request's validation, naming the path of the field (a check of the whole request names
    its field in its message) and, for a value of another type, what was given."""
    from affiliate_matrix.wording import error_said

    err = exc.errors(include_url=False)[0]
    message = error_said(err)
    return InvalidInput(f"{'.'.join(str(part) for part in err['loc'])}: {message}" if err["loc"] else message)


def allocate_json(text: str | bytes, metric: str = "revenue") -> str:
    from affiliate_matrix.budget.allocate import allocate
    from affiliate_matrix.budget.models import WrittenAllocateRequest

    return allocate(parse(WrittenAllocateRequest, text), metric=metric).model_dump_json()


def forecast_json(text: str | bytes) -> str:
    from affiliate_matrix.budget.forecast import forecast
    from affiliate_matrix.budget.models import ForecastRequest

    return forecast(parse(ForecastRequest, text)).model_dump_json()
