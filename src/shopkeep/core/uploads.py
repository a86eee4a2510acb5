"""Uploaded files are hostile: the type comes from the bytes, never from the name."""

from __future__ import annotations

import io
import re
import secrets
import warnings

from django.core.files.uploadedfile import UploadedFile

from shopkeep.core.errors import ServiceError

MAX_IMAGE_BYTES = 2 * 1024 * 1024
# Declared dimensions, read from the header before anything decodes the pixels: a 2 MB PNG
# can declare 100,000 x 100,000 pixels (40 GB of RGBA once a browser or a thumbnailer
# decodes it). 40 megapixels is a 7,300 x 5,500 photo; no side may exceed 10,000.
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_SIDE = 10_000
MAX_IMAGE_FRAMES = 500

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


def image_problem(data: bytes | UploadedFile) -> str | None:
    """Why an image (already sniffed as PNG, JPEG, GIF or WebP) is refused, or None.

    Pillow's ``Image.open`` parses only the header (no pixel is decoded), so this costs the
    same for a bomb as for a thumbnail. Unparseable headers are refused too: the magic bytes
    alone do not make an image.
    """
    from PIL import Image, UnidentifiedImageError

    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    position = stream.tell()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError:
        return "its declared size is too large"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return "it is not a readable image"
    finally:
        stream.seek(position)
    if width < 1 or height < 1:
        return "it is not a readable image"
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        return (f"it declares {width} x {height} pixels; at most {MAX_IMAGE_PIXELS // 1_000_000}"
                f" megapixels and {MAX_IMAGE_SIDE:,} pixels a side")
    if frames > MAX_IMAGE_FRAMES or width * height * frames > 4 * MAX_IMAGE_PIXELS:
        return f"it has too many frames ({frames})"
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
    if problem := image_problem(upload):
        raise ServiceError("invalid_image", f"This image is refused: {problem}.", field="image")
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


# -- any upload whose type must come from its bytes (support attachments) ---------------------

CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif",
                 "webp": "image/webp", "pdf": "application/pdf",
                 "txt": "text/plain; charset=utf-8"}

# The start of a document a browser would sniff as HTML, XML or SVG (WHATWG MIME sniffing,
# "identifying a resource with an unknown MIME type"), compared case-insensitively.
_MARKUP_PREFIXES = (
    b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div", b"<font",
    b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p", b"<!--", b"<?xml",
    b"<svg", b"<object", b"<embed", b"<img", b"<form", b"<meta", b"<link",
)


def looks_like_markup(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    if any(head.startswith(prefix) for prefix in _MARKUP_PREFIXES):
        return True
    # Markup anywhere in the first kilobyte is what old browsers sniffed for; refuse it too.
    return any(tag in data[:1024].lower() for tag in (b"<script", b"<html", b"<svg", b"<iframe"))


def sniff_type(data: bytes) -> str | None:
    """``png``/``jpg``/``gif``/``webp``/``pdf``/``txt`` from the bytes, or None.

    Text is UTF-8 without NUL bytes that a browser would not take for HTML, XML or SVG;
    anything else (executables, archives, markup) is None.
    """
    image = sniff_image(data[:16])
    if image is not None:
        return image
    if data.startswith(b"%PDF-"):
        return "pdf"
    if b"\x00" in data or looks_like_markup(data):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "txt"
