from pydantic import BaseModel, Field


class Source(BaseModel):
    url: str = Field(description="A variant of the picture (WebP), under /media.")
    width: int = Field(description="Its width in pixels.")


class Picture(BaseModel):
    """An uploaded picture: its address, size and variants, for `![alt](url)` in a post."""

    id: int
    url: str = Field(
        description="The largest variant, in the original's format: the URL to write in "
        "a post's Markdown (or as its feature_image)."
    )
    width: int = Field(description="Of the largest variant, orientation applied.")
    height: int
    alt: str = Field(description="The text that describes the picture to who cannot see it.")
    srcset: list[Source] = Field(description="The WebP variants, narrowest first.")
