"""The source registry: every format module registers itself; sniff() ranks them all.

Importing this package imports every module in it that does not start with "_", so a
new format is one new file (the bundled ones use the same door).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from ..errors import InputError, UsageError
from ._base import REGISTRY, ParseOptions, ParseResult, Rejected, Source, register
from ._io import SourceFile, open_inputs

__all__ = [
    "REGISTRY", "ParseOptions", "ParseResult", "Rejected", "Source", "SourceFile",
    "register", "sniff", "choose", "pick", "get", "open_inputs", "formats", "inspect",
    "Inspection",
]

MIN_CONFIDENCE = 0.3

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")


@dataclass(frozen=True)
class Guess:
    """One sniffer's opinion of a file."""

    format: str
    side: str
    confidence: float


def get(name: str) -> Source:
    """The registered source called `name` (raises UsageError listing the known ones)."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UsageError(f"unknown format {name!r}; known formats: {known}") from None


def formats() -> list[Source]:
    """Every registered source, ESP side first, then by name."""
    return sorted(REGISTRY.values(), key=lambda s: (s.SIDE != "esp", s.NAME))


def sniff(src: SourceFile) -> list[Guess]:
    """Every source's confidence for this file, best first (zeros left out).

    A sniffer that fails on a file says "not mine": one module's bug on strange input
    must not stop the others from recognising the file (tests/test_hostile.py calls
    every sniffer on the hostile corpus directly, so such bugs still show).
    """
    guesses = []
    for source in REGISTRY.values():
        try:
            conf = float(source.sniff(src))
        except Exception:  # see the docstring
            conf = 0.0
        if conf != conf:  # NaN
            conf = 0.0
        if conf > 0:
            guesses.append(Guess(source.NAME, source.SIDE, min(conf, 1.0)))
    return sorted(guesses, key=lambda g: -g.confidence)


def choose(src: SourceFile, format: str | None = None) -> tuple[Source, float]:
    """The source to parse `src` with: the forced format, else the best sniffer."""
    if format:
        return get(format), 1.0
    guesses = sniff(src)
    if not guesses or guesses[0].confidence < MIN_CONFIDENCE:
        if src.head and not src.is_zip:
            _ = src.encoding  # raises the precise "binary data ..." InputError
        raise InputError(
            src.name,
            "not a recognised export format",
            line=1,
            hint="name it with --format, or map its columns on the Upload page / with --mapping",
        )
    best = guesses[0]
    return REGISTRY[best.format], best.confidence


@dataclass(frozen=True)
class Inspection:
    """What the sniffers think of one uploaded file (or archive member)."""

    name: str
    guesses: tuple[Guess, ...]
    headers: tuple[str, ...]
    error: str | None = None

    @property
    def best(self) -> Guess | None:
        return self.guesses[0] if self.guesses and self.guesses[0].confidence >= MIN_CONFIDENCE \
            else None


def inspect(items: list) -> list[Inspection]:
    """Sniff uploads without loading them: the formats' confidences and the headers."""
    from ._io import open_one, workdir_inputs
    from ._tabular import csv_headers, xlsx_headers

    out: list[Inspection] = []
    with workdir_inputs() as inputs:
        for item in items:
            label = item[0] if isinstance(item, tuple) else str(item)
            failures: list[InputError] = []
            try:
                files = open_one(inputs, item, failures)
            except InputError as e:
                out.append(Inspection(label, (), (), str(e)))
                continue
            for src in files:
                try:
                    headers = xlsx_headers(src) if src.is_zip else csv_headers(src)
                    out.append(Inspection(src.name, tuple(sniff(src)), tuple(headers)))
                except InputError as e:
                    out.append(Inspection(src.name, (), (), str(e)))
                except Exception as e:  # a preview must never crash the page
                    out.append(Inspection(src.name, (), (), unexpected(src.name, "sniffing", e)))
            out.extend(Inspection(e.file, (), (), str(e)) for e in failures)
    return out


def unexpected(file: str, where: str, e: BaseException) -> str:
    """One line for an error we did not foresee: the file, the step, the exception."""
    text = " ".join(str(e).split())[:300] or "(no message)"
    return f"{file}: unexpected error in {where}: {type(e).__name__}: {text}"


def pick(src: SourceFile, opts: ParseOptions, format: str | None = None) -> tuple[Source, float]:
    """The source for a file and options (a column mapping implies 'mapped')."""
    if opts.mapping and not format:
        format = "mapped"
    return choose(src, format)


def parse(src: SourceFile, con, opts: ParseOptions, format: str | None = None
          ) -> tuple[Source, float, ParseResult]:
    """Choose a source and parse the file with it (a column mapping implies 'mapped')."""
    source, confidence = pick(src, opts, format)
    return source, confidence, parse_with(source, src, con, opts)


def parse_with(source: Source, src: SourceFile, con, opts: ParseOptions) -> ParseResult:
    """source.parse, with what the readers worked around in the file (src.notes) as notes."""
    result = source.parse(src, con, opts)
    result.notes.update(src.notes)
    return result


# Import notes that note_warnings turns into a warning (shown instead of the raw note).
WARNING_NOTES = ("recipients_not_exported", "derived_error", "header_quote")


def note_warnings(notes: dict) -> list[str]:
    """What a user should do about an import's notes, in plain words (the Upload page)."""
    out = []
    lost = notes.get("recipients_not_exported")
    if lost:
        out.append(
            f"{int(lost):,} rows name their recipients as 'System.String[]': plain Export-Csv "
            "writes the Recipients array's type name, so these rows can only be matched by "
            "Message-ID. Export again with the arrays joined: Get-MessageTrackingLog -Start "
            "… -End … -ResultSize Unlimited | Select-Object *, @{n='Recipients';e={"
            "$_.Recipients -join ';'}}, @{n='RecipientStatus';e={$_.RecipientStatus -join "
            "';'}} -ExcludeProperty Recipients,RecipientStatus | Export-Csv tracking.csv "
            "-NoTypeInformation -Encoding UTF8")
    if notes.get("derived_error"):
        out.append(f"{_sentence(notes['derived_error'])} "
                   "(restart the app, or raise DELIVERY_TRACE_MEMORY_LIMIT if DuckDB ran out "
                   "of memory).")
    if notes.get("header_quote"):
        out.append(f"{_sentence(notes['header_quote'])}: check "
                   "that the column names look right.")
    return out


def _sentence(text: str) -> str:
    """The note with its first letter capitalised (str.capitalize lowers the rest)."""
    return text[:1].upper() + text[1:]
