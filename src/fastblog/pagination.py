"""Page numbers for the HTML pages (the API uses skip/limit)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PageLinks:
    number: int
    per_page: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.last else None
