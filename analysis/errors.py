"""Errors the UI and CLI show to users: a title, the file, the line and what to try."""

from __future__ import annotations


class DeliveryTraceError(Exception):
    """Base class for every error we raise on purpose."""

    title = "Delivery Trace error"


class InputError(DeliveryTraceError):
    """A file cannot be recognised or read.

    The message names the file, the line (when there is one), what was expected and
    what to try, on one line, so the CLI can print it as is.
    """

    title = "Cannot read this file"

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        self.hint = hint
        where = f"{file}, line {line}" if line is not None else file
        text = f"{where}: {problem}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class WorkspaceError(DeliveryTraceError):
    """The workspace database cannot be opened or is in use."""

    title = "Workspace problem"


class UsageError(DeliveryTraceError):
    """The caller asked for something that does not exist (format, mapping, option)."""

    title = "Invalid request"
