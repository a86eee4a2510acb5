"""Uploaded files are hostile: the type comes from the bytes, never from the name."""

from __future__ import annotations

import re
import secrets

from django.core.files.uploadedfile import UploadedFile

from shopkeep.core.errors import ServiceError

MAX_IMAGE_BYTES = 2 * 1024 * 1024

# magic bytes -> extension
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def sniff_image(head: bytes) -> str | None:
    for signature, extension in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def check_image(upload: UploadedFile, *, max_bytes: int = MAX_IMAGE_BYTES) -> UploadedFile:
    """Accept PNG, JPEG, GIF or WebP up to ``max_bytes``; rename to a random safe name."""
    if upload.size is None or upload.size > max_bytes:
        raise ServiceError("invalid_image", f"Images can be at most {max_bytes // 1024} KB.",
                           field="image")
    upload.seek(0)
    extension = sniff_image(upload.read(16))
    upload.seek(0)
    if extension is None:
        raise ServiceError("invalid_image", "Upload a PNG, JPEG, GIF or WebP image.",
                           field="image")
    upload.name = f"{secrets.token_hex(12)}.{extension}"
    return upload


MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def check_download(upload: UploadedFile, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> UploadedFile:
    """Any file type (it is only ever served as an attachment), up to ``max_bytes``, stored
    under a random name that keeps a plain extension."""
    if upload.size is None or upload.size > max_bytes:
        raise ServiceError("invalid_download", f"Downloads can be at most "
                           f"{max_bytes // (1024 * 1024)} MB.", field="download")
    match = _EXTENSION.search(upload.name or "")
    extension = f".{match.group(1).lower()}" if match else ""
    upload.name = f"{secrets.token_hex(16)}{extension}"
    return upload
