"""Opening inputs: .gz/.zip unpacking with bomb guards, encoding detection, UTF-8 copies.

Every parser reads a `SourceFile`. Text formats ask for `text_head` (to sniff) and
`utf8_path()` (a strict UTF-8 copy without BOM that DuckDB's readers can scan); binary
formats (XLSX) read `path` directly.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import settings
from ..errors import InputError

HEAD_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar")


@dataclass
class SourceFile:
    """One input file as the parsers see it (archive members are files of their own)."""

    name: str
    path: Path
    sha256: str
    size: int
    head: bytes
    mtime: float | None = None
    workdir: Path | None = None
    _encoding: str | None = field(default=None, repr=False)
    _utf8: Path | None = field(default=None, repr=False)

    @property
    def is_zip(self) -> bool:
        return self.head[:4] == b"PK\x03\x04"

    @property
    def encoding(self) -> str:
        """The text encoding, detected strictly over the whole file (raises for binary)."""
        if self._encoding is None:
            self._encoding = detect_encoding(self)
        return self._encoding

    @property
    def text_head(self) -> str:
        """The first KiBs decoded, or '' when the file is not text."""
        try:
            enc = self.encoding
        except InputError:
            return ""
        head = self.head
        if enc.startswith("utf-16") and len(head) % 2:
            head = head[:-1]
        text = head.decode(enc, errors="replace")  # head only: a cut multi-byte char at the end
        return text.lstrip("\ufeff")

    def utf8_path(self) -> Path:
        """A UTF-8 copy without BOM (the file itself when it already is one)."""
        if self._utf8 is not None:
            return self._utf8
        enc = self.encoding
        if enc == "utf-8" and not self.head.startswith(codecs.BOM_UTF8):
            self._utf8 = self.path
            return self.path
        assert self.workdir is not None
        out = self.workdir / f"utf8-{self.sha256[:16]}.txt"
        decoder = codecs.getincrementaldecoder(enc)(errors="strict")
        with open(self.path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            first = True
            while chunk := src.read(_CHUNK):
                text = decoder.decode(chunk)
                if first:
                    text, first = text.lstrip("\ufeff"), False
                dst.write(text)
            dst.write(decoder.decode(b"", final=True))
        self._utf8 = out
        return out

    def read_text(self) -> str:
        """The whole file decoded (for small formats such as JSON and e-mail)."""
        return self.utf8_path().read_text(encoding="utf-8")


def detect_encoding(src: SourceFile) -> str:
    """BOM, then a UTF-16 NUL pattern, then strict UTF-8, then cp1252/Latin-1."""
    head = src.head
    if head.startswith(codecs.BOM_UTF8):
        return _verify(src, "utf-8-sig")
    if head.startswith(codecs.BOM_UTF16_LE):
        return _verify(src, "utf-16")
    if head.startswith(codecs.BOM_UTF16_BE):
        return _verify(src, "utf-16")
    sample = head[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
            return _verify(src, "utf-16-le")
        if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
            return _verify(src, "utf-16-be")
    if b"\x00" in head:
        raise InputError(
            src.name,
            "binary data, not a text export",
            line=_line_of(head, head.index(b"\x00")),
            hint="upload the CSV, log, JSON or XLSX file the system exported",
        )
    try:
        return _verify(src, "utf-8")
    except InputError:
        pass
    try:
        return _verify(src, "cp1252")
    except InputError:
        return "latin-1"  # every byte is a Latin-1 character


def _verify(src: SourceFile, enc: str) -> str:
    """Decode the whole file strictly; raise InputError naming the first bad line."""
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    offset = 0
    lines_before = 0
    with open(src.path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                line = lines_before + chunk[: max(e.start, 0)].count(b"\n") + 1
                raise InputError(
                    src.name,
                    f"not valid {enc} text (byte 0x{chunk[e.start]:02x} at offset {offset + e.start})",
                    line=line if not enc.startswith("utf-16") else None,
                    hint="save the export as UTF-8 and try again",
                ) from e
            offset += len(chunk)
            lines_before += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise InputError(src.name, f"file ends inside a {enc} character (truncated?)") from e
    return enc


def _line_of(data: bytes, pos: int) -> int:
    return data[:pos].count(b"\n") + 1


def _sha256_and_head(path: Path) -> tuple[str, bytes, int]:
    h = hashlib.sha256()
    head = b""
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), head, size


def _is_xlsx_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _guarded_copy(reader, dst: Path, name: str, compressed_size: int) -> int:
    """Copy a decompressing stream, refusing sizes and ratios that look like a bomb."""
    limit = settings.MAX_EXPANDED_BYTES
    ratio_limit = settings.MAX_EXPANSION_RATIO * max(compressed_size, 1)
    written = 0
    with open(dst, "wb") as out:
        while chunk := reader.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise InputError(
                    name, f"expands to more than {limit:,} bytes; refused as a decompression bomb"
                )
            if written > ratio_limit and written > 64 * 1024 * 1024:
                raise InputError(
                    name,
                    f"expands more than {settings.MAX_EXPANSION_RATIO}x; refused as a decompression bomb",
                )
            out.write(chunk)
    return written


class _Inputs:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = 0

    def tmp(self, suffix: str = "") -> Path:
        self.counter += 1
        # Never the member's own name: no path traversal, no clobbering.
        safe_suffix = "".join(c for c in suffix if c.isalnum() or c == ".")[-12:]
        return self.workdir / f"in-{self.counter}{safe_suffix}"

    def make(self, name: str, path: Path, mtime: float | None) -> SourceFile:
        sha, head, size = _sha256_and_head(path)
        return SourceFile(name=name, path=path, sha256=sha, size=size, head=head, mtime=mtime,
                          workdir=self.workdir)

    def expand(self, name: str, path: Path, mtime: float | None, depth: int = 0) -> list[SourceFile]:
        size = path.stat().st_size
        if size == 0:
            raise InputError(name, "the file is empty")
        if size > settings.MAX_FILE_BYTES:
            raise InputError(name, f"file is {size:,} bytes; the limit is {settings.MAX_FILE_BYTES:,}")
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic[:2] == b"\x1f\x8b":
            if depth:
                raise InputError(name, "nested archive refused (a .gz inside an archive)")
            out = self.tmp(Path(name[:-3] if name.endswith(".gz") else name).suffix)
            try:
                with gzip.open(path, "rb") as gz:
                    _guarded_copy(gz, out, name, size)
            except (OSError, EOFError) as e:
                raise InputError(name, f"broken gzip data: {e}") from e
            inner = name[:-3] if name.lower().endswith(".gz") else name + "(gunzipped)"
            return [self.make(inner, out, mtime)]
        if magic == b"PK\x03\x04" and not _is_xlsx_zip(path):
            if depth:
                raise InputError(name, "nested archive refused (a .zip inside an archive)")
            return self._unzip(name, path, mtime)
        return [self.make(name, path, mtime)]

    def _unzip(self, name: str, path: Path, mtime: float | None) -> list[SourceFile]:
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            if name.lower().endswith((".xlsx", ".xlsm")):
                raise InputError(name, "broken XLSX workbook: the file is truncated or damaged",
                                 hint="export it again from the ESP") from e
            raise InputError(name, f"broken ZIP archive: {e}") from e
        files: list[SourceFile] = []
        with zf:
            total = 0
            for info in zf.infolist():
                if info.is_dir() or info.filename.startswith("__MACOSX/"):
                    continue
                member = f"{name}:{info.filename}"
                if info.filename.lower().endswith(_ARCHIVE_SUFFIXES):
                    raise InputError(member, "nested archive refused; unpack it and upload its files")
                total += info.file_size
                if total > settings.MAX_EXPANDED_BYTES:
                    raise InputError(name, "archive expands beyond the size limit; refused")
                out = self.tmp(Path(info.filename).suffix)
                try:
                    with zf.open(info) as reader:
                        _guarded_copy(reader, out, member, max(info.compress_size, 1))
                except (zipfile.BadZipFile, OSError, EOFError) as e:
                    raise InputError(member, f"broken ZIP member: {e}") from e
                files.extend(self.expand(member, out, mtime, depth=1))
        if not files:
            raise InputError(name, "the ZIP archive holds no files")
        return files


@contextmanager
def open_inputs(items: list[str | os.PathLike[str] | tuple[str, bytes]]) -> Iterator[list[SourceFile]]:
    """Open paths or (name, bytes) uploads; archives become one SourceFile per member.

    Temporary copies live until the context ends.
    """
    workdir = Path(tempfile.mkdtemp(prefix="delivery-trace-"))
    try:
        inputs = _Inputs(workdir)
        out: list[SourceFile] = []
        for item in items:
            out.extend(open_one(inputs, item))
        yield out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def open_one(inputs: _Inputs, item: str | os.PathLike[str] | tuple[str, bytes]) -> list[SourceFile]:
    """Expand one path or upload into SourceFiles (raises InputError)."""
    if isinstance(item, tuple):
        name, data = item
        tmp = inputs.tmp(Path(name).suffix)
        tmp.write_bytes(data)
        return inputs.expand(name, tmp, None)
    path = Path(item)
    if not path.exists():
        raise InputError(str(path), "no such file")
    if path.is_dir():
        raise InputError(str(path), "is a folder; name the files inside it")
    return inputs.expand(path.name, path, path.stat().st_mtime)


@contextmanager
def workdir_inputs() -> Iterator[_Inputs]:
    """A scratch folder for opening files one at a time (so one bad file cannot stop the rest)."""
    workdir = Path(tempfile.mkdtemp(prefix="delivery-trace-"))
    try:
        yield _Inputs(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
