"""Base classes of every API input schema: one place for what all input must satisfy.

``QuerySchema`` (filters in the query string) refuses dates and times outside the plausible range;
``InputSchema`` (request bodies) also refuses unknown fields, at the top level and nested, instead of dropping them
silently: a misspelt optional field would otherwise read as "not given". NUL characters are refused before any
schema runs (core.middleware).
"""

from __future__ import annotations

import copy
from datetime import date, datetime

from ninja import Schema
from pydantic import BaseModel, ConfigDict, create_model, field_validator, model_validator

# No 办件, evaluation or case predates the system (2019 national rules) or lies in the next century; a year such as
# 0832 is a typo or a probe, and far-past instants would even come back with local-mean-time offsets (+08:05:43).
MIN_YEAR = 2000
MAX_YEAR = 2099
OUT_OF_RANGE = f"时间超出合理范围（{MIN_YEAR}–{MAX_YEAR} 年）"


def plausible(value):
    """``value`` unchanged if it is no date or a date within MIN_YEAR..MAX_YEAR; ValueError otherwise."""
    if isinstance(value, (date, datetime)) and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(OUT_OF_RANGE)
    return value


class QuerySchema(Schema):
    @field_validator("*", mode="after")
    @classmethod
    def _plausible_times(cls, value):
        return plausible(value)


class InputSchema(QuerySchema):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info):
        # django-ninja validates a schema that forbids extra fields twice: the input as given (for the extra check),
        # then wrapped in its DjangoGetter (for resolvers and Django objects). A request body or an imported row is
        # a plain dict and input schemas have no resolvers: the first validation is the whole answer, and the same
        # errors. Half the cost of every body, and of every row of a history import (bench/README.md).
        if isinstance(values, dict) and not cls._ninja_resolvers:
            return handler(values)
        return super()._run_root_validator(values, handler, info)

class _PlainInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _plausible_times(cls, value):
        return plausible(value)


def plain_twin(schema: type[InputSchema], **annotations) -> type[BaseModel]:
    """A plain pydantic model with ``schema``'s very fields (types, constraints, defaults) and InputSchema's rules
    (unknown fields refused, plausible times), without ninja's per-object wrap validator, which validates every
    object twice and costs ten times the validation itself: for bodies of many items (the batch endpoints).
    ``annotations`` replace the types of nested schemas by their own twins. Answers the same values and the same
    errors as ``schema`` (tests/evaluation/test_batch_fast.py); callers that quote errors still validate a refused
    item with ``schema`` itself."""
    fields = {name: (annotations.get(name, f.annotation), copy.copy(f)) for name, f in schema.model_fields.items()}
    return create_model(f"Plain{schema.__name__}", __base__=_PlainInput, **fields)
