"""Where uploaded files are kept and the addresses they are served at.

Files are stored by key (`profile_pics/<name>.jpg`) in a `MediaStore`: a folder (MEDIA_DIR, the
default, served by StaticFiles at /media) or an S3-compatible bucket (S3_BUCKET) that every app
host reads. Either way a picture's address is `/media/<key>` on this site, so pages and API
clients never change; with a bucket that address redirects to the object (fastblog.media_routes).
"""

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import anyio

from fastblog.config import Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

DEFAULT_AVATAR_PATH = "/static/img/default-avatar.png"
MEDIA_URL_PREFIX = "/media"
PICTURES_SUBDIR = "profile_pics"
# The only keys the app writes, hence the only ones /media hands out: no other object of the
# bucket can be reached through it.
MEDIA_KEY = re.compile(
    rf"{PICTURES_SUBDIR}/[A-Za-z0-9_-]+\.jpg|pictures/[0-9a-f]{{20}}\.(?:jpg|png|webp)"
)


def image_sources(settings: Settings) -> tuple[str, ...]:
    """Where pages load pictures from besides this site, for the CSP's img-src: with a bucket,
    /media answers a redirect to MEDIA_URL or to the bucket (CSP checks where a redirect
    leads); with EXTERNAL_IMAGES=allow, any https: address (fastblog.posts.markdown shows
    only those)."""
    sources: list[str] = []
    if settings.s3_bucket:
        if settings.media_url:
            sources.append(_origin(settings.media_url))
        elif settings.s3_endpoint_url:
            sources.append(_origin(settings.s3_endpoint_url))  # addressed by path
        else:  # AWS, addressed by the bucket's host name
            bucket, region = settings.s3_bucket, settings.s3_region
            sources += [
                f"https://{bucket}.s3.amazonaws.com",
                f"https://{bucket}.s3.{region}.amazonaws.com",
            ]
    if settings.external_images == "allow":
        sources.append("https:")
    return tuple(dict.fromkeys(sources))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def picture_url(image_file: str | None) -> str:
    if image_file is None:
        return DEFAULT_AVATAR_PATH
    return f"{MEDIA_URL_PREFIX}/{picture_key(image_file)}"


def picture_key(image_file: str) -> str:
    return f"{PICTURES_SUBDIR}/{image_file}"


class MediaStore(Protocol):
    async def save(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None: ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""
        ...

    async def aclose(self) -> None: ...


class LocalMediaStore:
    """Files under MEDIA_DIR: for one machine (or a folder every host mounts)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def save(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        # Cache-Control is sent by the /media file server (fastblog.media.files), by key.
        path = anyio.Path(self.folder / key)
        await path.parent.mkdir(parents=True, exist_ok=True)
        await path.write_bytes(data)

    async def delete(self, key: str) -> None:
        await anyio.Path(self.folder / key).unlink(missing_ok=True)

    async def aclose(self) -> None:
        return None


class S3MediaStore:
    """Objects in an S3-compatible bucket, shared by every host; the bucket may stay private
    (pictures are served through short-lived presigned URLs) unless MEDIA_URL says where the
    objects are public (a public bucket, a CDN)."""

    def __init__(
        self, client: "S3Client", settings: Settings, stack: contextlib.AsyncExitStack
    ) -> None:
        assert settings.s3_bucket is not None
        self.client = client
        self.bucket = settings.s3_bucket
        self.public_url = settings.media_url.rstrip("/") if settings.media_url else None
        self.presign_seconds = settings.s3_presign_seconds
        self._stack = stack

    @classmethod
    async def open(cls, settings: Settings) -> "S3MediaStore":
        # Imported here, once, at start-up, and only by a site with a bucket: aiobotocore
        # brings botocore and aiohttp, a fifth of the CPU that importing the app takes
        # (python -X importtime), which every `fastblog serve` on a media folder would pay.
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        secret = settings.s3_secret_access_key
        config = AioConfig(
            connect_timeout=5,
            read_timeout=15,
            retries={"max_attempts": 2, "mode": "standard"},
            # A custom endpoint (MinIO, moto, Ceph) is addressed by path, not by bucket host name.
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        )
        stack = contextlib.AsyncExitStack()
        client: S3Client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=settings.s3_endpoint_url,
                region_name=settings.s3_region,
                aws_access_key_id=settings.s3_access_key_id,
                aws_secret_access_key=secret.get_secret_value() if secret else None,
                config=config,
            )
        )
        return cls(client, settings, stack)

    async def save(
        self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None
    ) -> None:
        if cache_control is None:
            await self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
            return
        # The object's own Cache-Control: what the bucket (or the CDN in front) answers with.
        await self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=cache_control,
        )

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def url(self, key: str) -> str:
        """Where a browser fetches the object: under MEDIA_URL, or a presigned URL."""
        if self.public_url is not None:
            return f"{self.public_url}/{key}"
        return await self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.presign_seconds,
        )

    async def ping(self) -> None:
        await self.client.head_bucket(Bucket=self.bucket)

    async def aclose(self) -> None:
        await self._stack.aclose()


async def open_media_store(settings: Settings) -> MediaStore:
    if settings.s3_bucket:
        return await S3MediaStore.open(settings)
    return LocalMediaStore(settings.media_dir)
