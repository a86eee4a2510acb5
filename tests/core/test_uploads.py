"""check_image: the type comes from the bytes, never from the name."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.core.errors import ServiceError
from shopkeep.core.uploads import MAX_IMAGE_BYTES, check_image, image_problem, sniff_image
from tests.images import image_bytes, jpeg_bomb, png_bomb

PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
GIF87 = image_bytes("GIF")
GIF89 = image_bytes("GIF", comment=b"made by a test")
WEBP = image_bytes("WEBP")


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


def test_the_fixtures_are_what_they_claim():
    assert GIF87.startswith(b"GIF87a")
    assert GIF89.startswith(b"GIF89a")
    assert WEBP[8:12] == b"WEBP"


@pytest.mark.parametrize(("content", "what"), [
    (png_bomb(), "100000 x 100000"),
    (png_bomb(20_000, 10), "20000 x 10"),   # one side too long
    (png_bomb(8_000, 8_000), "8000 x 8000"),  # 64 megapixels
    (jpeg_bomb(), "60000 x 60000"),
])
def test_an_image_declaring_huge_dimensions_is_refused_unread(content, what):
    """Decompression bombs: a few dozen bytes that decode to gigabytes."""
    assert len(content) < 1000
    upload = SimpleUploadedFile("bomb.png", content)
    with pytest.raises(ServiceError) as exc:
        check_image(upload)
    assert exc.value.code == "invalid_image"
    assert what in exc.value.message or "too large" in exc.value.message
    assert upload.name == "bomb.png"


def test_an_image_at_the_limit_is_accepted():
    assert image_problem(png_bomb(6_000, 6_000)) is None  # 36 megapixels, 6,000 a side


def test_magic_bytes_without_a_readable_header_are_refused():
    upload = SimpleUploadedFile("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(ServiceError) as exc:
        check_image(upload)
    assert "not a readable image" in exc.value.message
