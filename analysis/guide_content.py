"""The Guide's text (docs/guide/*.md) and its searchable SMTP code reference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from . import smtp

GUIDE_DIR = Path(__file__).resolve().parents[1] / "docs" / "guide"
REFERENCE_COLUMNS = ["code", "kind", "meaning", "usually", "category", "hard", "suppress"]


@dataclass(frozen=True)
class GuideSection:
    """One Markdown page of the guide: its file stem, title and body."""

    slug: str
    title: str
    body: str


def sections(folder: Path = GUIDE_DIR) -> list[GuideSection]:
    """The guide pages in file-name order; the first '# ' line is the title."""
    out = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        title = first[2:].strip() if first.startswith("# ") else path.stem
        body = rest if first.startswith("# ") else text
        body = re.sub(r"^(#{2,4}) ", r"\1## ", body, flags=re.M)  # page title is the h1
        out.append(GuideSection(re.sub(r"^\d+-", "", path.stem), title, body.strip()))
    return out


def _classified(code: int | None, enhanced: str | None) -> tuple[str, str, str, str]:
    """What the rule table makes of a bare code: reason, category, hard, suppress."""
    try:
        from .classify import classify
    except ImportError:  # the classifier has not landed in this build
        return "", "", "", ""
    c = classify(code, enhanced, "")
    hard = "" if c.permanent is None else "yes" if c.permanent else "no"
    return ("" if c.rule_id == "none" else c.reason, c.category, hard,
            "yes" if c.suppress else "no")


@lru_cache(maxsize=1)
def code_reference() -> pd.DataFrame:
    """Every basic reply code and enhanced status code with its meaning and usual reason."""
    rows = []
    for code, meaning in sorted(smtp.REPLY_CODES.items()):
        cls = _classified(code, None) if code >= 400 else ("", "", "", "")
        rows.append((str(code), "reply code", meaning, *cls))
    for cls_digit in ("4", "5"):
        for detail, meaning in smtp.ENHANCED_CODES.items():
            code = f"{cls_digit}.{detail}"
            rows.append((code, "enhanced code", f"{smtp.ENHANCED_CLASSES[cls_digit]}: {meaning}",
                         *_classified(None, code)))
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


_CODE_TOKEN = re.compile(r"^[245](?:\d\d|\.\d{0,3}(?:\.\d{0,3})?)?$")


def search_codes(text: str = "") -> pd.DataFrame:
    """Reference rows matching any code in the text ('550', '5.1', '5.7.26') or all its words."""
    ref = code_reference()
    tokens = text.strip().lower().replace(",", " ").split()
    if not tokens:
        return ref
    codes = [t for t in tokens if _CODE_TOKEN.match(t)]
    words = [t for t in tokens if not _CODE_TOKEN.match(t)]
    hit = pd.Series(False, index=ref.index)
    for code in codes:
        exact = ref["code"] == code
        hit |= exact if exact.any() else ref["code"].str.startswith(code)
    if words:
        haystack = (ref["meaning"] + " " + ref["usually"] + " " + ref["category"]).str.lower()
        every = pd.Series(True, index=ref.index)
        for word in words:
            every &= haystack.str.contains(word, regex=False)
        hit |= every
    return ref[hit].reset_index(drop=True)
