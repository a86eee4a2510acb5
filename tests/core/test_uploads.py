"""check_image: the type comes from the bytes, never from the name."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.core.errors import ServiceError
from shopkeep.core.uploads import MAX_IMAGE_BYTES, check_image, sniff_image

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF87 = b"GIF87a" + b"\x00" * 32
GIF89 = b"GIF89a" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.mark.parametrize(("content", "name", "extension"), [
    (PNG, "a.png", "png"),
    (JPEG, "photo.jpeg", "jpg"),
    (GIF87, "old.gif", "gif"),
    (GIF89, "anim.gif", "gif"),
    (WEBP, "b.webp", "webp"),
    (PNG, "misnamed.jpg", "png"),  # the bytes decide
    (JPEG, "no-extension", "jpg"),
])
def test_real_images_are_accepted_and_renamed_by_their_bytes(content, name, extension):
    upload = check_image(SimpleUploadedFile(name, content))
    assert re.fullmatch(r"[0-9a-f]{24}\." + extension, upload.name)
    assert upload.read() == content  # rewound for the storage


@pytest.mark.parametrize(("content", "name"), [
    (b"<!doctype html><script>alert(1)</script>", "cat.png"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "logo.png"),
    (b"%PDF-1.7\n", "doc.jpg"),
    (b"MZ\x90\x00", "setup.gif"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "sound.webp"),  # RIFF, but not WebP
    (b"\x89PNX\r\n\x1a\n", "almost.png"),
    (b"", "empty.png"),
])
def test_non_images_are_refused_whatever_their_name(content, name):
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(ServiceError) as exc:
        check_image(upload)
    assert (exc.value.code, exc.value.field) == ("invalid_image", "image")
    assert upload.name == name


def test_an_image_over_two_megabytes_is_refused():
    upload = SimpleUploadedFile("big.png", PNG + b"\x00" * (MAX_IMAGE_BYTES - len(PNG) + 1))
    with pytest.raises(ServiceError) as exc:
        check_image(upload)
    assert exc.value.code == "invalid_image"
    assert "2048 KB" in exc.value.message


def test_an_image_of_exactly_two_megabytes_is_accepted():
    upload = SimpleUploadedFile("edge.png", PNG + b"\x00" * (MAX_IMAGE_BYTES - len(PNG)))
    assert check_image(upload).name.endswith(".png")


def test_sniff_image_needs_the_whole_signature():
    assert sniff_image(b"\x89PNG") is None
    assert sniff_image(b"GIF8") is None
    assert sniff_image(b"RIFF") is None
    assert sniff_image(PNG[:16]) == "png"
