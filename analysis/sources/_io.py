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
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import InputError
from ..settings import Limits

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
    # What a reader had to work around in this file; sources.parse adds it to the notes.
    notes: dict[str, str] = field(default_factory=dict, repr=False)
    # A workbook's first sheet as calamine read it for the sniffers; read_xlsx takes it
    # (the sheet is parsed once per file, not once to sniff and again to load).
    sheet_rows: list[Any] | None = field(default=None, repr=False)

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

    def csv_path(self) -> Path:
        """A path DuckDB's CSV reader can scan: the file itself when it is UTF-8.

        DuckDB's read_csv skips a UTF-8 BOM at the start of the file itself, so a UTF-8
        file with a BOM is read in place too (no Python copy; benchmarks.md: -1.6 s for a
        245 MB export). Other encodings get the UTF-8 copy of utf8_path().
        """
        if self.encoding in ("utf-8", "utf-8-sig"):
            return self.path
        return self.utf8_path()

    def has_bom(self) -> bool:
        """Whether the file starts with a UTF-8 byte-order mark."""
        return self.head.startswith(codecs.BOM_UTF8)

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

    def mixed_line_ends(self) -> bool:
        """Whether bare CRs (old-Mac line ends) sit beside LF or CRLF line ends."""
        # Mixed means a bare CR plus any LF (an LF is either half of a CRLF or a bare
        # LF), so two cheap scans replace counting every kind of line end.
        return _has_bare_cr_and_lf(self.csv_path())

    def lf_path(self) -> Path:
        """A UTF-8 copy whose line ends are all LF (CRLF and bare CR become LF).

        For DuckDB's CSV reader, which fails on files whose line ends are mixed. CRs inside
        quoted fields become LF too; the parsers normalise reply texts that way anyway.
        """
        src = self.utf8_path()
        assert self.workdir is not None
        out = self.workdir / f"lf-{self.sha256[:16]}.txt"
        with open(src, "rb") as fin, open(out, "wb") as fout:
            carry = b""
            while chunk := fin.read(_CHUNK):
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                if carry:
                    chunk = chunk[:-1]
                fout.write(_CRLF_OR_CR.sub(b"\n", chunk))
            fout.write(b"\n" if carry else b"")
        return out


_CRLF_OR_CR = re.compile(rb"\r\n?")


_BARE_CR = re.compile(rb"\r(?!\n)")


def _has_bare_cr_and_lf(path: Path) -> bool:
    """Whether the file holds a CR not followed by LF and also at least one LF."""
    bare_cr = lf = False
    carry = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            data, carry = carry + chunk, b""
            if data.endswith(b"\r"):  # may be the first half of a CRLF
                data, carry = data[:-1], b"\r"
            lf = lf or b"\n" in data
            bare_cr = bare_cr or _BARE_CR.search(data) is not None
            if bare_cr and lf:
                return True
    return bool(carry) and lf


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
    """Decode the whole file strictly; raise InputError naming the first bad line.

    A NUL character is refused too: no text export holds one, DuckDB's readers stop at
    it, and it is what a damaged file (a log after a crash) or a binary file carries.
    """
    # Line numbers are counted only for the message, by re-reading up to the bad byte
    # (counting every chunk's lines cost a tenth of the pass). In the ASCII-compatible
    # encodings a NUL character is a NUL byte, and an all-ASCII chunk with no character
    # pending from the last one is valid: it is not decoded at all.
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    wide = enc.startswith("utf-16")
    offset = 0
    with open(src.path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            text = ""
            if wide or not chunk.isascii() or decoder.getstate()[0]:
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as e:
                    raise InputError(
                        src.name,
                        f"not valid {enc} text (byte 0x{chunk[e.start]:02x} at offset "
                        f"{offset + e.start})",
                        line=_lines_before(src.path, offset + max(e.start, 0)) + 1
                        if not wide else None,
                        hint="save the export as UTF-8 and try again",
                    ) from e
            if ("\x00" in text) if wide else (b"\x00" in chunk):
                line = (_lines_before_text(src.path, enc, offset, text) if wide
                        else _lines_before(src.path, offset + chunk.index(b"\x00")))
                raise InputError(
                    src.name, "a NUL byte: binary data or a damaged file, not a text export",
                    line=line + 1,
                    hint="export the file again; a log cut by a crash can be trimmed before "
                         "that line")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise InputError(src.name, f"file ends inside a {enc} character (truncated?)") from e
    return enc


def _lines_before(path: Path, pos: int) -> int:
    """How many LF bytes precede byte `pos` of the file (ASCII-compatible encodings)."""
    n = 0
    with open(path, "rb") as fh:
        while pos > 0 and (chunk := fh.read(min(_CHUNK, pos))):
            n += chunk.count(b"\n")
            pos -= len(chunk)
    return n


def _lines_before_text(path: Path, enc: str, offset: int, text: str) -> int:
    """How many LFs precede the first NUL of `text`, the decoded chunk at byte `offset`."""
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    n = 0
    with open(path, "rb") as fh:
        while offset > 0 and (chunk := fh.read(min(_CHUNK, offset))):
            n += decoder.decode(chunk).count("\n")
            offset -= len(chunk)
    return n + text.count("\n", 0, text.index("\x00"))


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


class BombError(InputError):
    """An archive that unpacks to too much: the whole archive is refused."""


def _guarded_copy(reader, dst: Path, name: str, compressed_size: int, limits: Limits,
                  budget: int | None = None) -> int:
    """Copy a decompressing stream, refusing sizes and ratios that look like a bomb.

    `budget` is what is left of the archive's total allowance (members share one).
    """
    limit = limits.max_expanded_bytes if budget is None else budget
    ratio_limit = limits.max_expansion_ratio * max(compressed_size, 1)
    written = 0
    with open(dst, "wb") as out:
        while chunk := reader.read(_CHUNK):
            written += len(chunk)
            if limits.max_expanded_bytes and written > limit:
                raise BombError(
                    name, f"expands to more than {limits.max_expanded_bytes:,} bytes; refused "
                    "as a decompression bomb", hint="unpack it yourself and load the files "
                    "(DELIVERY_TRACE_MAX_EXPANDED_BYTES sets the limit)")
            if (limits.max_expansion_ratio and written > ratio_limit
                    and written > limits.ratio_floor_bytes):
                raise BombError(
                    name, f"expands more than {limits.max_expansion_ratio}x; refused as a "
                    "decompression bomb", hint="unpack it yourself and load the files "
                    "(DELIVERY_TRACE_MAX_EXPANSION_RATIO sets the limit)")
            out.write(chunk)
    return written


# What a broken or unsupported archive raises inside zipfile/gzip/zlib, besides OSError:
# NotImplementedError (a compression method such as AES or LZMA-in-zip it lacks),
# RuntimeError (an encrypted member), zlib.error, EOFError, ValueError (bad headers).
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
                   NotImplementedError, RuntimeError, ValueError)


class _Inputs:
    def __init__(self, workdir: Path, limits: Limits | None = None) -> None:
        self.workdir = workdir
        self.limits = limits or settings.limits()
        self.counter = 0

    def tmp(self, suffix: str = "") -> Path:
        self.counter += 1
        # Never the member's own name: no path traversal, no clobbering, no glob
        # characters reaching DuckDB's readers (read_csv and read_text expand globs).
        safe_suffix = "".join(c for c in suffix if c.isascii() and (c.isalnum() or c == "."))
        # Nor a compression suffix: DuckDB's read_csv decompresses by extension, and what
        # reaches it is always plain (a "maillog.gz" that is not gzip data is text).
        if safe_suffix.lower() in (".gz", ".gzip", ".zst", ".zstd", ".zip", ".bz2", ".xz",
                                   ".lz4", ".tgz"):
            safe_suffix = ""
        return self.workdir / f"in-{self.counter}{safe_suffix[-12:]}"

    def make(self, name: str, path: Path, mtime: float | None) -> SourceFile:
        sha, head, size = _sha256_and_head(path)
        return SourceFile(name=name, path=path, sha256=sha, size=size, head=head, mtime=mtime,
                          workdir=self.workdir)

    def adopt(self, path: Path, name: str) -> Path:
        """The user's file under a scratch name (a hard link, else a copy)."""
        out = self.tmp(Path(name).suffix)
        try:
            os.link(path, out)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(path, out)
        return out

    def expand(self, name: str, path: Path, mtime: float | None, depth: int = 0,
               failures: list[InputError] | None = None) -> list[SourceFile]:
        size = path.stat().st_size
        if size == 0:
            raise InputError(name, "the file is empty")
        limit = self.limits.max_file_bytes
        if limit and size > limit:
            raise InputError(name, f"file is {size:,} bytes; the limit is {limit:,}",
                             hint="split it, or raise --max-bytes / DELIVERY_TRACE_MAX_FILE_BYTES")
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic[:2] == b"\x1f\x8b":
            if depth:
                raise InputError(name, "nested archive refused (a .gz inside an archive)",
                                 hint="unpack it and load its files")
            out = self.tmp(Path(name[:-3] if name.endswith(".gz") else name).suffix)
            try:
                with gzip.open(path, "rb") as gz:
                    _guarded_copy(gz, out, name, size, self.limits)
            except _ARCHIVE_ERRORS as e:
                raise InputError(name, f"broken gzip data: {_first_line(e)}") from e
            inner = name[:-3] if name.lower().endswith(".gz") else name + "(gunzipped)"
            return [self.make(inner, out, mtime)]
        if magic == b"PK\x03\x04" and not _is_xlsx_zip(path):
            if depth:
                raise InputError(name, "nested archive refused (a .zip inside an archive)",
                                 hint="unpack it and load its files")
            return self._unzip(name, path, mtime, failures)
        return [self.make(name, path, mtime)]

    def _unzip(self, name: str, path: Path, mtime: float | None,
               failures: list[InputError] | None) -> list[SourceFile]:
        """Each member to a scratch file; a bad member fails alone when `failures` is given."""
        try:
            zf = zipfile.ZipFile(path)
        except _ARCHIVE_ERRORS as e:
            if name.lower().endswith((".xlsx", ".xlsm")):
                raise InputError(name, "broken XLSX workbook: the file is truncated or damaged",
                                 hint="export it again from the ESP") from e
            raise InputError(name, f"broken ZIP archive: {_first_line(e)}") from e
        files: list[SourceFile] = []
        with zf:
            members = [i for i in zf.infolist()
                       if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
            most = self.limits.max_archive_members
            if most and len(members) > most:
                raise InputError(name, f"the archive holds {len(members):,} files; the limit "
                                 f"is {most:,}", hint="unpack it and load the files you need")
            used = 0
            for info in members:
                member = f"{name}:{info.filename}"
                try:
                    if info.filename.lower().endswith(_ARCHIVE_SUFFIXES):
                        raise InputError(member, "nested archive refused; unpack it and upload "
                                         "its files")
                    if info.flag_bits & 0x1:
                        raise InputError(member, "encrypted (password-protected) ZIP member",
                                         hint="unpack it yourself and load the files")
                    out = self.tmp(Path(info.filename).suffix)
                    budget = (self.limits.max_expanded_bytes - used
                              if self.limits.max_expanded_bytes else None)
                    try:
                        with zf.open(info) as reader:
                            used += _guarded_copy(reader, out, member,
                                                  max(info.compress_size, 1), self.limits, budget)
                    except InputError:
                        raise
                    except _ARCHIVE_ERRORS as e:
                        raise InputError(member, f"broken or unsupported ZIP member: "
                                         f"{_first_line(e)}") from e
                    files.extend(self.expand(member, out, mtime, depth=1))
                except InputError as e:
                    if failures is None or isinstance(e, BombError):
                        raise  # a bomb refuses the whole archive
                    failures.append(e)
        if not files and not failures:
            raise InputError(name, "the ZIP archive holds no files")
        return files


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


@contextmanager
def open_inputs(items: list[str | os.PathLike[str] | tuple[str, bytes]],
                limits: Limits | None = None) -> Iterator[list[SourceFile]]:
    """Open paths or (name, bytes) uploads; archives become one SourceFile per member.

    Temporary copies live until the context ends.
    """
    with workdir_inputs(limits=limits) as inputs:
        out: list[SourceFile] = []
        for item in items:
            out.extend(open_one(inputs, item))
        yield out


def open_one(inputs: _Inputs, item: str | os.PathLike[str] | tuple[str, bytes],
             failures: list[InputError] | None = None) -> list[SourceFile]:
    """Expand one path or upload into SourceFiles (raises InputError).

    With `failures`, a broken archive member is appended there and the others still open.
    Every SourceFile's path lies in the scratch folder under a name of our making.
    """
    label = item[0] if isinstance(item, tuple) else str(item)
    try:
        if isinstance(item, tuple):
            name, data = item
            limit = inputs.limits.max_file_bytes
            if limit and len(data) > limit:
                raise InputError(name, f"file is {len(data):,} bytes; the limit is {limit:,}")
            tmp = inputs.tmp(Path(name).suffix)
            tmp.write_bytes(data)
            return inputs.expand(name, tmp, None, failures=failures)
        path = Path(item)
        if not path.exists():
            raise InputError(str(path), "no such file")
        if path.is_dir():
            raise InputError(str(path), "is a folder; name the files inside it")
        if not path.is_file():
            raise InputError(str(path), "is not a regular file (a device, pipe or socket)")
        mtime = path.stat().st_mtime
        return inputs.expand(path.name, inputs.adopt(path, path.name), mtime,
                             failures=failures)
    except InputError:
        raise
    except OSError as e:  # unreadable, vanished, disk full in the scratch folder
        raise InputError(label, f"cannot be read: {e.strerror or _first_line(e)}") from e


@contextmanager
def workdir_inputs(limits: Limits | None = None, parent: Path | None = None) -> Iterator[_Inputs]:
    """A scratch folder for opening files one at a time (so one bad file cannot stop the rest).

    `parent` puts it inside a folder of the caller's (the store's private scratch folder,
    the only one its DuckDB connection may read).
    """
    workdir = Path(tempfile.mkdtemp(prefix="delivery-trace-", dir=parent))
    try:
        yield _Inputs(workdir, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
