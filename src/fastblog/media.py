"""Where uploaded files are kept and the addresses they are served at."""

from pathlib import Path

DEFAULT_AVATAR_PATH = "/static/img/default-avatar.png"
MEDIA_URL_PREFIX = "/media"
PICTURES_SUBDIR = "profile_pics"


def picture_url(image_file: str | None) -> str:
    if image_file is None:
        return DEFAULT_AVATAR_PATH
    return f"{MEDIA_URL_PREFIX}/{PICTURES_SUBDIR}/{image_file}"


def picture_folder(media_dir: Path) -> Path:
    return media_dir / PICTURES_SUBDIR
