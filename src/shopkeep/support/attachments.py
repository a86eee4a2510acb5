"""Ticket attachments: images, PDF, plain text and logs; the type comes from the bytes.

Files are stored under random names in ``private/support/`` (never served by a static
route), served only through views that check who may see the ticket, and linked from
webhook events by signed URLs that expire.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.urls import reverse

from shopkeep.core.absolute import absolute_url
from shopkeep.core.errors import ServiceError
from shopkeep.core.uploads import CONTENT_TYPES, image_problem, sniff_type
from shopkeep.support.models import Attachment

IMAGE_KINDS = frozenset({"png", "jpg", "gif", "webp"})

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
# A request carrying more than this is refused before Django parses it.
MAX_REQUEST_BYTES = MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES + 1024 * 1024
SIGNED_URL_SALT = "support-attachment"
SIGNED_URL_MAX_AGE = 7 * 24 * 3600

# What a name's extension claims; a file claiming one family must be that family.
_CLAIMS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "gif": "gif", "webp": "webp",
           "pdf": "pdf"}
_TEXT_EXTENSIONS = {"txt", "log", "csv", "json", "yml", "yaml", "cfg", "conf", "ini", "md",
                    "properties", "toml"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]+")


@dataclass
class CheckedFile:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int


def sanitise_filename(raw: str, extension: str) -> str:
    """The display name: last path component only, ASCII letters, digits and a few marks,
    no leading dots, at most 100 characters, ending in the extension the bytes justify."""
    name = unicodedata.normalize("NFKD", raw or "").encode("ascii", "ignore").decode()
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", name).strip(" ._")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.strip(" ._")[:90] or "attachment"
    if extension == "txt" and ext.lower() in _TEXT_EXTENSIONS:
        return f"{stem}.{ext.lower()}"
    return f"{stem}.{extension}"


def check_attachment(upload: UploadedFile) -> CheckedFile:
    label = sanitise_filename(upload.name or "", "txt").rsplit(".", 1)[0]
    if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
        raise ServiceError("attachment_too_large", f"{label}: attachments can be at most 10 MB.",
                           field="attachments", status=413)
    if upload.size == 0:
        raise ServiceError("attachment_empty", f"{label}: the file is empty.",
                           field="attachments")
    upload.seek(0)
    data = upload.read(MAX_ATTACHMENT_BYTES + 1)
    upload.seek(0)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ServiceError("attachment_too_large", f"{label}: attachments can be at most 10 MB.",
                           field="attachments", status=413)
    kind = sniff_type(data)
    if kind is None:
        raise ServiceError("attachment_type", f"{label}: attach images (PNG, JPEG, GIF, WebP), "
                           "PDF documents or plain text and log files.", field="attachments")
    if kind in IMAGE_KINDS and (problem := image_problem(data)):
        raise ServiceError("attachment_image", f"{label}: this image is refused: {problem}.",
                           field="attachments")
    claimed = (upload.name or "").rsplit(".", 1)[-1].lower() if "." in (upload.name or "") \
        else ""
    if claimed in _CLAIMS and _CLAIMS[claimed] != kind:
        raise ServiceError("attachment_type", f"{label}: the file is named .{claimed} but its "
                           "content is something else.", field="attachments")
    filename = sanitise_filename(upload.name or "", kind)
    # The stored name is random: nothing the uploader chose reaches the file system.
    upload.name = f"{secrets.token_hex(16)}.{kind}"
    return CheckedFile(upload=upload, filename=filename, content_type=CONTENT_TYPES[kind],
                       size=len(data))


def check_attachments(uploads: list[UploadedFile]) -> list[CheckedFile]:
    if len(uploads) > MAX_ATTACHMENTS:
        raise ServiceError("too_many_attachments",
                           f"Attach at most {MAX_ATTACHMENTS} files to one message.",
                           field="attachments")
    return [check_attachment(upload) for upload in uploads]


def attachment_response(attachment: Attachment) -> FileResponse:
    """Headers that stop a browser from treating the file as a page: the checked type,
    nosniff, a sandboxing CSP, and download rather than display for everything but images."""
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type,
                            as_attachment=not attachment.is_image,
                            filename=attachment.filename)
    if attachment.is_image:
        response["Content-Disposition"] = f'inline; filename="{attachment.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def signed_url(attachment: Attachment) -> str:
    """An absolute URL that works without signing in for ``SIGNED_URL_MAX_AGE`` seconds
    (for webhook receivers, which have no session)."""
    token = signing.TimestampSigner(salt=SIGNED_URL_SALT).sign_object(
        {"a": attachment.pk, "s": attachment.store_id})
    return absolute_url(reverse("support_attachment_signed", args=[token, attachment.filename]))


def unsign(token: str) -> dict | None:
    try:
        data = signing.TimestampSigner(salt=SIGNED_URL_SALT).unsign_object(
            token, max_age=SIGNED_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None
