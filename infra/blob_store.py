"""Content-addressed store of case materials (档案材料): a file is kept once under its sha256
(`<blob dir>/ab/cd/<sha256>`), written to a temporary file first and renamed into place, so a
crash never leaves a half file under a real name. Reading verifies the hash: a file changed on
disk is refused, never served. Limits: size, and the media type recognised from the content
(what the client claims is not trusted)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from domain.errors import NotFound, ValidationFailed

BLOB_BYTES_MAX = 20 * 1024 * 1024  # a scanned document; larger is a wrong file or a video
CHUNK_BYTES = 1024 * 1024
# Recognised by their first bytes; what an archive keeps (scans, photos, PDFs).
MEDIA_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


class BlobCorrupted(Exception):
    """A stored file no longer has the hash it was stored under (tampered or damaged)."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size_bytes: int
    media_type: str


def media_type_of(head: bytes) -> str | None:
    for magic, media_type in MEDIA_TYPES:
        if head.startswith(magic):
            return media_type
    return None


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            raise ValidationFailed("sha256_malformed", "a material is named by its sha256 "
                                   "(64 lowercase hex digits)", field="sha256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO, name: str = "") -> StoredBlob:
        """Store the stream's bytes; refuses (nothing kept) a file too large or of a type not
        accepted. The same content twice is stored once."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        media_type: str | None = None
        handle, temp_name = tempfile.mkstemp(prefix=".upload-", dir=self.root)
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := source.read(CHUNK_BYTES):
                    if media_type is None:
                        media_type = media_type_of(chunk[:16]) or ""
                        if not media_type:
                            raise ValidationFailed(
                                "material_type_not_accepted",
                                f"{name or 'the file'} is not a PDF, JPEG, PNG or TIFF file "
                                "(recognised from its content); scan the document to one of "
                                "these", field="file")
                    size += len(chunk)
                    if size > BLOB_BYTES_MAX:
                        raise ValidationFailed(
                            "material_too_large",
                            f"{name or 'the file'} is over {BLOB_BYTES_MAX // (1024 * 1024)} MiB;"
                            " scan at a lower resolution or split it", field="file")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise ValidationFailed("material_empty", f"{name or 'the file'} is empty",
                                       field="file")
            sha256 = digest.hexdigest()
            final = self.path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(temp_name)
            else:
                os.replace(temp_name, final)
            assert media_type
            return StoredBlob(sha256, size, media_type)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise

    def read(self, sha256: str) -> Iterator[bytes]:
        """The file's bytes in chunks, after checking the whole file against its hash."""
        path = self.path(sha256)
        if not path.exists():
            raise NotFound("material_not_found", f"no stored material {sha256}", field="sha256")
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise BlobCorrupted(f"stored material {sha256} fails its hash check: the file at "
                                f"{path} was changed or damaged; restore it from backup")
        return self._chunks(path)

    @staticmethod
    def _chunks(path: Path) -> Iterator[bytes]:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                yield chunk
