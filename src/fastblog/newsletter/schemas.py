from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from fastblog.params import MAX_ID


class SubscriptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[EmailStr, Field(max_length=254, examples=["reader@example.com"])]
    author_id: Annotated[
        int | None,
        Field(
            ge=1,
            le=MAX_ID,
            description="An author's id: their posts only; null (the default): the whole site.",
        ),
    ] = None


class Subscriber(BaseModel):
    id: int
    email: str
    author_id: int | None = Field(description="null: subscribed to the whole site.")
    author: str | None
    created_at: datetime
    confirmed_at: datetime | None


class SubscriberList(BaseModel):
    subscribers: list[Subscriber]
