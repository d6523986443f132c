"""A real Postfix on 127.0.0.1: send mail as an ESP would, load both sides, check verdicts.

The test starts its own Postfix instance (own config, queue and data directories in a
temporary folder, `postfix -c DIR start`), listening on 127.0.0.1 only, logging through
postlogd to a `maillog_file`. Nothing is relayed anywhere but 127.0.0.1 and nothing
looks up DNS: the relay host is `[127.0.0.1]:PORT` where nobody listens (the deferred
scenario), and every other recipient is local (virtual mailboxes, an error transport).
Scenarios (issue 4, part 5): delivered, unknown user rejected at RCPT, accepted then
bounced, header_checks REJECT, HOLD, DISCARD, next hop down (deferred), greylisting 450.
The replies are written as a TouchBasePro export (the ESP's view), both files are
loaded with the Store, and each recipient's verdict is asserted; pflogsumm's counts of
the same log must agree with ours. The instance is stopped by its own `postfix -c DIR
stop` (and its master PID) even when the test fails.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import email.utils
import os
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.sources._base import ParseOptions
from analysis.store import Store

pytestmark = pytest.mark.postfix

POSTFIX = "/usr/sbin/postfix"
DOMAIN = "pf.example.org"  # the recipient organisation (RFC 2606 names only)
ESP_DOMAIN = "bounce.esp.example.net"
HEADERS = ["Email Address", "Name", "Campaign", "Event", "Date", "Bounce Type",
           "Bounce Reason", "Message ID", "SMTP Response"]


@dataclass(frozen=True)
class Scenario:
    subject: str
    rcpts: dict[str, str]  # recipient local part (or full address) -> expected verdict


SCENARIOS = [
    Scenario("Welcome", {"ada": "delivered"}),
    Scenario("Welcome", {"nosuchuser": "rejected"}),              # 550 5.1.1 at RCPT
    Scenario("Welcome", {"bounce": "bounced_after_accept"}),      # pipe transport, 5.2.2
    Scenario("REJECTME newsletter", {"cass": "rejected"}),        # header_checks REJECT
    Scenario("HOLDME newsletter", {"dave": "quarantined"}),       # header_checks HOLD
    Scenario("DISCARDME newsletter", {"erin": "dropped"}),        # header_checks DISCARD
    Scenario("Welcome", {"frank@downstream.example.net": "deferred"}),  # relay host down
    Scenario("Welcome", {"grey": "deferred"}),                    # 450 4.2.0 Greylisted
    # One message, three recipients: one queue ID, three fates.
    Scenario("Welcome", {"hana": "delivered", "jill": "bounced_after_accept",
                         "nobody-here": "rejected"}),
]
EXPECTED = {(k if "@" in k else f"{k}@{DOMAIN}"): v for sc in SCENARIOS for k, v in sc.rcpts.items()}


def _why_not() -> str | None:
    if not os.path.exists(POSTFIX) or not shutil.which("postconf"):
        return ("Postfix is not installed (make test installs the Debian packages postfix "
                "and pflogsumm when run as root)")
    if os.geteuid() != 0:
        return "Postfix's master must be started as root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "the postfix user does not exist (install the Debian package)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostfixInstance:
    """One private Postfix: config, queue, data and mailboxes under `base`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.etc, self.spool, self.data = base / "etc", base / "spool", base / "data"
        self.vmail, self.log = base / "vmail", base / "maillog"
        self.port, self.dead_port = _free_port(), _free_port()
        self.env = {**os.environ, "TZ": "UTC", "LANG": "C"}

    def write_config(self) -> None:
        for d in (self.etc, self.spool, self.data, self.vmail):
            d.mkdir(parents=True)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.vmail, nobody.pw_uid, nobody.pw_gid)
        os.chown(self.data, pwd.getpwnam("postfix").pw_uid, -1)
        b = self.base
        (self.etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.spool}
data_directory = {self.data}
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{self.dead_port}
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
smtp_connect_timeout = 2s
maillog_file = {self.log}
maillog_file_prefixes = {b}
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {self.vmail}
virtual_mailbox_maps = texthash:{self.etc}/vmailbox
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
virtual_minimum_uid = 1
transport_maps = texthash:{self.etc}/transport
header_checks = regexp:{self.etc}/header_checks
smtpd_recipient_restrictions = check_recipient_access texthash:{self.etc}/greylist,
    permit_mynetworks, reject_unauth_destination
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
notify_classes =
delay_warning_time = 0
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 3600s
smtputf8_enable = no
biff = no
""")
        (self.etc / "master.cf").write_text(f"""\
127.0.0.1:{self.port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
quotafull unix  -       n       n       -       -       pipe
  flags=q user=nobody argv={self.etc}/quotafull
""")
        # Accepted at RCPT (the address is listed), then refused by the delivery agent:
        # pipe(8) reports the 5.X.X code the command prints (accepted then bounced).
        script = self.etc / "quotafull"
        script.write_text("#!/bin/sh\necho '5.2.2 Mailbox full (quota exceeded)'\nexit 73\n")
        script.chmod(0o755)
        mailboxes = ["ada", "bounce", "cass", "dave", "erin", "grey", "hana", "jill"]
        (self.etc / "vmailbox").write_text(
            "".join(f"{m}@{DOMAIN} {DOMAIN}/{m}/\n" for m in mailboxes))
        (self.etc / "transport").write_text(
            f"bounce@{DOMAIN} quotafull:\njill@{DOMAIN} quotafull:\n")
        (self.etc / "greylist").write_text(
            f"grey@{DOMAIN} 450 4.2.0 Greylisted, see https://postgrey.example.org/\n")
        (self.etc / "header_checks").write_text(
            "/^Subject: .*REJECTME/ REJECT 5.7.1 Content rejected by policy\n"
            "/^Subject: .*HOLDME/ HOLD held for review\n"
            "/^Subject: .*DISCARDME/ DISCARD discarded by policy\n")

    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([POSTFIX, "-c", str(self.etc), *args], env=self.env,
                              capture_output=True, text=True, timeout=60, check=check)

    def start(self) -> None:
        self.postfix("check")
        self.postfix("start")
        end = time.monotonic() + 20
        while time.monotonic() < end:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1) as s:
                s.recv(100)
                return
            time.sleep(0.2)
        raise RuntimeError(f"Postfix did not listen on 127.0.0.1:{self.port}: {self.read_log()}")

    def master_pid(self) -> int | None:
        pid_file = self.spool / "pid" / "master.pid"
        with contextlib.suppress(OSError, ValueError):
            return int(pid_file.read_text().split()[0])
        return None

    def stop(self) -> None:
        pid = self.master_pid()
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.postfix("stop", check=False)
        if pid is None:
            return
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)  # our own master, by its PID

    def read_log(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture(scope="module")
def instance() -> Iterator[PostfixInstance]:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="delivery-trace-postfix-"))
    base.chmod(0o755)  # the daemons run as `postfix` and `nobody`
    pf = PostfixInstance(base)
    try:
        pf.write_config()
        pf.start()
        yield pf
    finally:
        pf.stop()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Sent:
    recipient: str
    sender: str
    message_id: str
    when: dt.datetime
    code: int
    reply: str
    stage: str  # RCPT or DATA


def _address(local: str) -> str:
    return local if "@" in local else f"{local}@{DOMAIN}"


def send_all(pf: PostfixInstance) -> list[Sent]:
    """Send one message per scenario as the ESP would, recording the server's replies."""
    out = []
    for i, sc in enumerate(SCENARIOS):
        rcpts = [_address(r) for r in sc.rcpts]
        sender = f"bnc-{i:08x}@{ESP_DOMAIN}"
        now = dt.datetime.now(dt.UTC)
        msgid = f"<{now:%Y%m%d%H%M%S}.{i:012x}@mta4.esp.example.net>"
        body = (f"From: BrightPath Outdoors <news@brightpath.example.com>\r\n"
                f"To: {', '.join(f'<{r}>' for r in rcpts)}\r\n"
                f"Subject: {sc.subject}\r\nMessage-ID: {msgid}\r\n"
                f"Date: {email.utils.format_datetime(now)}\r\n\r\nHello.\r\n")
        replies: dict[str, tuple[int, bytes | str, str]] = {}
        with smtplib.SMTP("127.0.0.1", pf.port, local_hostname="mta4.esp.example.net",
                          timeout=30) as s:
            s.ehlo("mta4.esp.example.net")
            s.mail(sender)
            for r in rcpts:
                code, text = s.rcpt(r)
                replies[r] = (code, text, "RCPT")
            accepted = [r for r in rcpts if replies[r][0] == 250]
            if accepted:
                try:
                    code, text = s.data(body)
                except smtplib.SMTPDataError as e:
                    code, text = e.smtp_code, e.smtp_error
                for r in accepted:
                    replies[r] = (code, text, "DATA")
            else:
                s.rset()
        for r, (code, text, stage) in replies.items():
            reply = f"{code} {text.decode() if isinstance(text, bytes) else text}"
            out.append(Sent(r, sender, msgid, now, code, " ".join(reply.split()), stage))
    return out


def write_esp_export(sent: list[Sent], path: Path) -> None:
    """The TouchBasePro activity layout (esp_exports.md 1.1): one row per send, UTC times."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(HEADERS)
        for s in sent:
            queued = re.search(r"queued as ([0-9A-Za-z]+)", s.reply)
            if s.code == 250:
                row = ["Delivered", "", "", queued.group(1) if queued else ""]
            elif s.code >= 500:
                row = ["Bounced", "Hard", "Hard Bounce", ""]
            else:
                row = ["Deferred", "", "", ""]
            w.writerow([s.recipient, "", "Postfix test", row[0], f"{s.when:%Y-%m-%d %H:%M:%S}",
                        *row[1:], s.reply])


def wait_for_log(pf: PostfixInstance, sent: list[Sent], timeout: float = 60) -> str:
    """Wait until every accepted message has reached its final line in the log."""
    wanted = [rf"to=<{re.escape(_address('ada'))}>.*status=sent",
              rf"to=<{re.escape(_address('bounce'))}>.*status=bounced",
              rf"to=<{re.escape(_address('hana'))}>.*status=sent",
              rf"to=<{re.escape(_address('jill'))}>.*status=bounced",
              rf"to=<{re.escape(_address('frank@downstream.example.net'))}>.*status=deferred",
              r"cleanup\[\d+\]: \w+: hold: header Subject: HOLDME",
              r"cleanup\[\d+\]: \w+: discard: header Subject: DISCARDME",
              r"sender non-delivery notification: \w+(.|\n)*sender non-delivery notification"]
    end = time.monotonic() + timeout
    log = ""
    while time.monotonic() < end:
        log = pf.read_log()
        if all(re.search(w, log) for w in wanted):
            time.sleep(1.0)  # let the NDR's own deferral be logged
            return pf.read_log()
        time.sleep(0.3)
    missing = [w for w in wanted if not re.search(w, log)]
    raise AssertionError(f"Postfix did not log {missing}; log:\n{log}")


@pytest.fixture(scope="module")
def run(instance: PostfixInstance, tmp_path_factory: pytest.TempPathFactory):
    sent = send_all(instance)
    log = wait_for_log(instance, sent)
    instance.stop()  # flushes and closes the log; the fixture's finally stops it again
    out = tmp_path_factory.mktemp("postfix-run")
    (out / "maillog").write_text(log)
    write_esp_export(sent, out / "esp_activity.csv")
    return sent, out


def test_the_smtp_replies_are_what_an_esp_sees(run) -> None:
    sent, _ = run
    got = {s.recipient: (s.code, s.stage) for s in sent}
    assert got == {
        f"ada@{DOMAIN}": (250, "DATA"), f"nosuchuser@{DOMAIN}": (550, "RCPT"),
        f"bounce@{DOMAIN}": (250, "DATA"), f"cass@{DOMAIN}": (550, "DATA"),
        f"dave@{DOMAIN}": (250, "DATA"), f"erin@{DOMAIN}": (250, "DATA"),
        "frank@downstream.example.net": (250, "DATA"), f"grey@{DOMAIN}": (450, "RCPT"),
        f"hana@{DOMAIN}": (250, "DATA"), f"jill@{DOMAIN}": (250, "DATA"),
        f"nobody-here@{DOMAIN}": (550, "RCPT")}
    assert all(re.search(r"queued as [0-9A-F]+$", s.reply) for s in sent if s.code == 250)
    multi = {s.reply for s in sent if s.recipient in (f"hana@{DOMAIN}", f"jill@{DOMAIN}")}
    assert len(multi) == 1  # one message, one queue ID for both accepted recipients


@pytest.fixture(scope="module")
def loaded(run):
    sent, out = run
    store = Store(":memory:")
    (esp,) = store.load_files([out / "esp_activity.csv"], opts=ParseOptions(tz="UTC"))
    (log,) = store.load_files([out / "maillog"], opts=ParseOptions(tz="UTC"))
    yield store, esp, log, out
    store.close()


def test_the_log_loads_without_unknown_lines(loaded) -> None:
    store, esp, log, _ = loaded
    assert esp.error is None and esp.format == "touchbasepro_csv" and esp.rows_loaded == 11
    assert log.error is None and log.format == "postfix", log.error
    assert log.rows_rejected == 0, store.rejected(log.import_id).to_dict("records")
    assert log.notes["lines_unknown"] == 0, log.notes.get("unknown_examples")
    assert log.notes["year"] == dt.datetime.now(dt.UTC).year or log.notes["year"] is None
    assert log.notes["year_source"].startswith("workspace: ")


def test_trace_events_per_recipient(loaded) -> None:
    store, _, log, _ = loaded
    df = store.df("SELECT recipient, list(event ORDER BY row_no) AS events FROM trace_events "
                  "WHERE import_id = ? AND recipient IS NOT NULL GROUP BY recipient", [log.import_id])
    got = {r: list(e) for r, e in zip(df["recipient"], df["events"], strict=True)}
    assert got[f"ada@{DOMAIN}"] == ["delivered"]
    assert got[f"nosuchuser@{DOMAIN}"] == ["rejected"]
    assert got[f"bounce@{DOMAIN}"] == ["bounced"]
    assert got[f"cass@{DOMAIN}"] == ["rejected"]
    assert got[f"dave@{DOMAIN}"] == ["held"]
    assert got[f"erin@{DOMAIN}"] == ["dropped"]
    assert got["frank@downstream.example.net"] == ["deferred"]
    assert got[f"grey@{DOMAIN}"] == ["deferred"]
    assert (got[f"hana@{DOMAIN}"], got[f"jill@{DOMAIN}"], got[f"nobody-here@{DOMAIN}"]) == (
        ["delivered"], ["bounced"], ["rejected"])
    # the NDRs go to the ESP's VERP addresses (and wait for the dead relay host)
    assert got[f"bnc-00000002@{ESP_DOMAIN}"] == ["deferred"]
    assert got[f"bnc-00000008@{ESP_DOMAIN}"] == ["deferred"]


def test_verdict_per_recipient(loaded) -> None:
    from analysis.journeys import journeys_df

    store, *_ = loaded
    df = journeys_df(store.cursor())
    got = dict(zip(df["recipient"], df["verdict"], strict=True))
    assert got == EXPECTED


def _pflogsumm_totals(log: Path) -> dict[str, int]:
    out = subprocess.run(["pflogsumm", "--problems-first", str(log)], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    totals = {}
    for n, what in re.findall(r"^\s*(\d+)\s+(received|delivered|forwarded|deferred|bounced|"
                              r"rejected|held|discarded)\b", out, re.M):
        totals.setdefault(what, int(n))
    return totals


def test_counts_agree_with_pflogsumm(loaded) -> None:
    if not shutil.which("pflogsumm"):
        pytest.skip("pflogsumm is not installed (Debian package pflogsumm)")
    store, _, log, out = loaded
    theirs = _pflogsumm_totals(out / "maillog")
    # The same line types pflogsumm counts (its source: status=sent lines except
    # "forwarded as", distinct deferred queue IDs, status=bounced lines, reject lines,
    # and hold/discard actions).
    ours = store.df(
        "SELECT count(*) FILTER (WHERE raw LIKE '%, status=sent %') AS delivered, "
        "count(DISTINCT queue_id) FILTER (WHERE raw LIKE '%, status=deferred %') AS deferred, "
        "count(*) FILTER (WHERE raw LIKE '%, status=bounced %') AS bounced, "
        "count(*) FILTER (WHERE regexp_matches(raw, ': (milter-)?reject: ')) AS rejected, "
        "count(*) FILTER (WHERE event = 'held') AS held, "
        "count(*) FILTER (WHERE event = 'dropped' AND raw LIKE '%: discard: %') AS discarded "
        "FROM trace_events WHERE import_id = ?", [log.import_id]).iloc[0].to_dict()
    assert {k: int(v) for k, v in ours.items()} == {k: theirs[k] for k in ours}
    assert ours == {"delivered": 2, "deferred": 3, "bounced": 2, "rejected": 4, "held": 1,
                    "discarded": 1}
