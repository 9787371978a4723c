"""What the lab answers: always the mode and the time it took, then what it did."""

from pydantic import BaseModel, Field


class LabResult(BaseModel):
    mode: str = Field(description="Which lab experiment answered.")
    elapsed_ms: float = Field(description="Wall time spent in the route, in milliseconds.")


class WaitResult(LabResult):
    ms: int = Field(description="How long it was asked to wait.")


class CpuResult(LabResult):
    n: int
    primes: int = Field(description="How many primes are below n.")


class FetchResult(LabResult):
    upstream: str = Field(description="The URL called; `?ms=` is added to it.")


class ConcurrentResult(FetchResult):
    calls_ms: list[float] = Field(description="Each upstream call's own duration.")
    sum_ms: float = Field(description="What the calls would take one after the other.")
