"""Article extraction: headline, byline, dates, canonical URL and body paragraphs from HTML."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

EXTRACTOR_VERSION = "1"


@dataclass
class Article:
    """The article a page carries, stripped of the page around it."""

    headline: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    canonical_url: str | None = None
    paragraphs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})
