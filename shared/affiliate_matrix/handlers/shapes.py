"""What the APIs' models are made of: the base of every parameter, body and answer model, and how a field's
annotation says it takes a list. Apart from handlers/routes.py so that the OpenAPI writer (handlers/openapi.py),
which routes imports on the first GET /openapi.json, does not import routes back."""

import types
import typing

from pydantic import BaseModel, ConfigDict


class Shape(BaseModel):
    """The base of the APIs' parameter, body and answer models: each is built when first used, not when
    its module is imported (a function's cold start)."""
    model_config = ConfigDict(defer_build=True)


def is_list(annotation) -> bool:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(is_list(a) for a in args)
    if typing.get_origin(annotation) is typing.Annotated:
        return is_list(args[0])
    return typing.get_origin(annotation) is list
