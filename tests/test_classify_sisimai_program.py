"""Issue 9's reference is Sisimai: the classifier against the Sisimai program itself.

Each reply text of the two labelled corpora is wrapped in an RFC 3464 bounce (its enhanced
code as Status:, X.0.0 of its reply code's class without one) and read by Debian's Sisimai
(libsisimai-perl, 4.25; `make test` installs it). Where Sisimai decides a reason, the share
of rows on which the classifier says the same is held at what was measured. Sisimai 4.25
predates v5's reasons (authfailure, badreputation, requireptr, notcompliantrfc, speeding,
failedstarttls, suppressed), whose texts it files under older ones, so full agreement is
not the aim: the floor catches rules that drift away from Sisimai.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.classify import classify

HERE = Path(__file__).resolve().parent
CORPORA = (HERE / "corpus" / "replies.csv", HERE / "corpus" / "holdout.csv")
DRIVER = HERE / "tools" / "sisimai_reasons.pl"
UNDECIDED = {"onhold", "undefined", "delivered", "vacation", "feedback"}
# Measured 2026-11-29/30: 0.516 before Sisimai's order (rules at 74ff971), 0.567 after it,
# 0.611 once an unconfirmed unknown user is Filtered as in Sisimai.
AGREEMENT_FLOOR = 0.60


def _sisimai_available() -> str | None:
    if shutil.which("perl") is None:
        return "perl is not installed"
    probe = subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, text=True)
    if probe.returncode != 0:
        return "Sisimai is not installed (Debian package libsisimai-perl; make test installs it)"
    return None


def _bounce(n: int, row: dict[str, str]) -> str:
    domain = row["domain"] or "example.org"
    code = row["smtp_code"]
    status = row["enhanced_code"] or (f"{code[0]}.0.0" if code else "5.0.0")
    text = re.sub(r"\s+", " ", row["text"]).strip()
    return (
        "From MAILER-DAEMON Sun Nov 29 10:00:00 2026\n"
        "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n"
        "To: sender@sender.example\nSubject: Delivery Status Notification (Failure)\n"
        "Date: Sun, 29 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="B{n}"\n\n'
        f"--B{n}\nContent-Type: text/plain\n\nDelivery to the following recipient failed.\n\n"
        f"--B{n}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.sender.example\n\n"
        f"Final-Recipient: rfc822; r{n}@{domain}\nAction: failed\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {text}\n\n"
        f"--B{n}\nContent-Type: message/rfc822\n\nFrom: sender@sender.example\n"
        f"To: r{n}@{domain}\nSubject: hello\nMessage-ID: <m{n}@sender.example>\n\nhi\n"
        f"--B{n}--\n\n")


def test_classifier_agrees_with_the_sisimai_program(tmp_path: Path) -> None:
    missing = _sisimai_available()
    if missing:
        pytest.skip(missing)
    rows = [row for path in CORPORA for row in csv.DictReader(path.open(encoding="utf-8"))]
    mbox = tmp_path / "bounces.mbox"
    mbox.write_text("".join(_bounce(n, row) for n, row in enumerate(rows)), encoding="utf-8")
    out = subprocess.run(["perl", str(DRIVER), str(mbox)], capture_output=True, text=True,
                         check=True, timeout=300).stdout
    sisimai = {int(addr.split("@")[0][1:]): reason
               for addr, reason in (line.split("\t") for line in out.splitlines())}
    assert len(sisimai) == len(rows), "Sisimai read every bounce"
    decided = [(rows[n], reason) for n, reason in sisimai.items() if reason not in UNDECIDED]
    assert len(decided) >= 800, len(decided)
    agree = sum(
        classify(r["smtp_code"] or None, r["enhanced_code"] or None, r["text"],
                 domain=r["domain"] or None).reason == reason for r, reason in decided)
    assert agree / len(decided) >= AGREEMENT_FLOOR, (agree, len(decided))
