"""Request bodies of the progress API and the flattened (zod-style) validation error."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mercato.kernel.errors import ApiError


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=False)

    jobType: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=1000)
    totalCount: int | None = Field(default=None, gt=0)
    cancellable: bool = False
    meta: dict[str, Any] | None = None
    parentJobId: uuid.UUID | None = None
    partitionIndex: int | None = Field(default=None, ge=0)
    partitionCount: int | None = Field(default=None, gt=0)


class JobUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    processedCount: int | None = Field(default=None, ge=0)
    progressPercent: int | None = Field(default=None, ge=0, le=100)
    totalCount: int | None = Field(default=None, gt=0)
    etaSeconds: int | None = Field(default=None, ge=0)
    meta: dict[str, Any] | None = None


def flattened(exc: ValidationError) -> dict[str, Any]:
    form_errors: list[str] = []
    field_errors: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p != "__root__"]
        msg = "Required" if err.get("type") == "missing" else err.get("msg", "Invalid input")
        if loc:
            field_errors.setdefault(str(loc[0]), []).append(msg)
        else:
            form_errors.append(msg)
    return {"formErrors": form_errors, "fieldErrors": field_errors}


def parse_body(model: type[BaseModel], body: Any) -> Any:
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details={"formErrors": ["Expected a JSON object"], "fieldErrors": {}})
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, "Invalid input", details=flattened(exc)) from None
