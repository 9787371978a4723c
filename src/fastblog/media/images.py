"""A picture for a post, from uploaded bytes to the variants that are stored.

Decoding and resizing a phone photo takes tens to hundreds of milliseconds of CPU, so
`make_variants` runs in the lifespan's process pool: a plain top-level function of bytes to
plain data (it must pickle), importing nothing of the app but the errors it raises.

What a file is comes from decoding it with Pillow, never from its name or its Content-Type:
a file that is not one of the accepted formats, is truncated, or claims more pixels than the
limit is refused before its pixels are decoded (a decompression bomb never unpacks).
"""

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError, features

from fastblog.exceptions import InvalidInputError

WIDTHS = (480, 960, 1600)
MAX_PIXELS = 40_000_000
AVIF = features.check("avif")  # Pillow reads (and writes) AVIF only when built with libavif
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", *(("AVIF",) if AVIF else ()))
# The format the "original format" variants are written in: AVIF and GIF pictures become
# JPEG and PNG (a resized GIF loses its animation anyway; PNG keeps its sharp edges).
SAVED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
NOT_A_PICTURE = "The file is not a picture we can read: upload a JPEG, PNG, WebP or GIF image."


class InvalidPictureError(InvalidInputError):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True, slots=True)
class Variant:
    key: str  # pictures/<hash of the bytes>.<ext>: a new content, a new name
    width: int
    height: int
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Processed:
    width: int  # of the largest variant, as the picture is shown (orientation applied)
    height: int
    variants: tuple[Variant, ...]  # narrowest first; WebP and the original's format


def _open(data: bytes, max_pixels: int) -> Image.Image:
    # Pillow's own bomb check, at our limit: a warning past it, an error past twice it.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                probe.verify()  # the file's structure; the image must be reopened after
            image = Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise InvalidPictureError(_too_many_pixels(max_pixels)) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidPictureError(NOT_A_PICTURE) from exc
    if image.width * image.height > max_pixels:
        raise InvalidPictureError(_too_many_pixels(max_pixels))
    return image


def _too_many_pixels(max_pixels: int) -> str:
    return f"The picture has more than {max_pixels // 1_000_000} megapixels: make it smaller."


def _upright(image: Image.Image) -> Image.Image:
    """Decoded, turned as its EXIF orientation says, in a mode every format can write."""
    try:
        image.load()
        turned = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt pixel data
        raise InvalidPictureError(NOT_A_PICTURE) from exc
    if turned.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = "A" in turned.getbands() or "transparency" in turned.info
        turned = turned.convert("RGBA" if has_alpha else "RGB")
    turned.info = {}  # EXIF, XMP, comments: never copied into a variant by a save
    return turned


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None) -> bytes:
    """The pixels and the colour profile only: no EXIF, GPS or XMP is passed on."""
    if fmt == "JPEG" and image.mode in ("RGBA", "LA"):
        image = image.convert("RGB")
    output = BytesIO()
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "JPEG":
        options |= {"quality": 85, "optimize": True, "progressive": True}
    elif fmt == "WEBP":
        options |= {"quality": 80, "method": 4}
    else:
        options |= {"optimize": True}
    image.save(output, fmt, **options)
    return output.getvalue()


def _variant(image: Image.Image, fmt: str, icc_profile: bytes | None) -> Variant:
    data = _encode(image, fmt, icc_profile)
    digest = hashlib.sha256(data).hexdigest()[:20]
    return Variant(
        key=f"pictures/{digest}.{EXTENSIONS[fmt]}",
        width=image.width,
        height=image.height,
        content_type=CONTENT_TYPES[fmt],
        data=data,
    )


def widths_for(width: int) -> list[int]:
    """About 480, 960 and 1600 pixels wide, never wider than the original."""
    return [w for w in WIDTHS if w < width] + [min(width, WIDTHS[-1])]


def make_variants(data: bytes, max_pixels: int = MAX_PIXELS) -> Processed:
    """Check that `data` is a picture and make its variants (WebP and the original's format)."""
    with _open(data, max_pixels) as image:
        original_format = SAVED_AS.get(image.format or "", "JPEG")
        icc_profile = image.info.get("icc_profile")
        upright = _upright(image)
    formats = dict.fromkeys(("WEBP", original_format))  # a WebP upload: WebP once
    variants: list[Variant] = []
    for width in widths_for(upright.width):
        height = max(1, round(upright.height * width / upright.width))
        resized = (
            upright
            if width == upright.width
            else upright.resize((width, height), Image.Resampling.LANCZOS)
        )
        variants.extend(_variant(resized, fmt, icc_profile) for fmt in formats)
    largest = variants[-1]
    return Processed(width=largest.width, height=largest.height, variants=tuple(variants))
