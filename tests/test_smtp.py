"""Reply-code tables, code extraction from real reply shapes, normalisation."""

from __future__ import annotations

import duckdb
import pytest

from analysis import smtp

RFC5321_CODES = [200, 211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500,
                 501, 502, 503, 504, 521, 550, 551, 552, 553, 554, 555, 556]

# Every code of the IANA registry table in shared/formats/dsn.md section 3.
LAST_DETAIL = {0: 0, 1: 10, 2: 4, 3: 6, 4: 7, 5: 6, 6: 10, 7: 30}
REGISTRY = [f"{s}.{d}" for s, last in LAST_DETAIL.items() for d in range(last + 1)]


@pytest.mark.parametrize("code", RFC5321_CODES)
def test_every_basic_reply_code_is_explained(code: int) -> None:
    assert smtp.describe(str(code))
    assert smtp.describe(code)


@pytest.mark.parametrize("detail", REGISTRY)
@pytest.mark.parametrize("cls", ["2", "4", "5"])
def test_every_registry_enhanced_code_is_explained(cls: str, detail: str) -> None:
    text = smtp.describe(f"{cls}.{detail}")
    assert text and "not in the registry" not in text


def test_describe_meanings_and_unknowns() -> None:
    assert "mailbox unavailable" in smtp.describe("550")
    assert smtp.describe("5.1.1") == "permanent failure: bad destination mailbox address (the user does not exist)"
    assert smtp.describe("4.2.2").startswith("persistent transient failure: mailbox full")
    assert "null MX" in smtp.describe("5.1.10")
    assert "not in the registry" in smtp.describe("5.7.606")  # Microsoft's own detail
    assert smtp.describe(None) is None
    assert smtp.describe("999") is None
    assert smtp.describe("6.1.1") is None
    assert smtp.describe("hello") is None


SHAPES = [
    # (text, reply code, enhanced code)
    ("host mx.example.net[192.0.2.1] said: 550-5.1.1 The email account that you tried to "
     "reach does not exist. 550 5.1.1 https://support.google.com/mail - gsmtp", 550, "5.1.1"),
    ("550-5.7.26 Unauthenticated email\r\n550-5.7.26 to domain's DMARC policy\r\n550 5.7.26  x",
     550, "5.7.26"),
    ("to=<a@b.example>, relay=none, delay=0.21, dsn=4.4.1, status=deferred (connect to "
     "mail.b.example[192.0.2.25]:25: Connection refused)", None, "4.4.1"),
    ("Sorry, no mailbox here by that name. (#5.1.1)", None, "5.1.1"),
    ("smtp; 550 5.1.1 <a@b.example>... User unknown", 550, "5.1.1"),
    ("smtp;550 user unknown", 550, None),
    ("SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 relay not permitted",
     550, None),
    ("[{LRT=};{LED=550 5.1.1 RESOLVER.ADR.RecipNotFound; not found};{FQDN=};{IP=}]", 550, "5.1.1"),
    ("Reason: [{LED=550 5.4.310 DNS domain nowhere.example.net does not exist "
     "[Message=InfoDomainNonexistent]};{MSG=};{FQDN=};{IP=};{LRT=}]", 550, "5.4.310"),
    ("Remote Server returned '550 5.4.1 [a@b.example]: Recipient address rejected'", 550, "5.4.1"),
    ("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred - 4.16.55.1; see x",
     421, "4.7.0"),
    ("250 2.0.0 OK  1762246808 a7c3e91f02b4d-4f1e8a2b9c3si8812345qk.41 - gsmtp", 250, "2.0.0"),
    ("Deferred: 451 Temporary local problem - please try later", 451, None),
    ("Connection refused", None, None),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "code", "enhanced"), SHAPES)
def test_extraction_from_real_shapes(text: str, code: int | None, enhanced: str | None) -> None:
    assert smtp.extract_reply_code(text) == code
    assert smtp.extract_enhanced_code(text) == enhanced


def test_sql_extraction_agrees_with_python() -> None:
    con = duckdb.connect()
    texts = [s[0] for s in SHAPES]
    got = con.execute(
        f"SELECT {smtp.reply_code_sql('t')}, {smtp.enhanced_code_sql('t')} "
        "FROM (SELECT unnest(?) AS t, generate_subscripts(?, 1) AS i) ORDER BY i",
        [texts, texts]).fetchall()
    assert got == [(s[1], s[2]) for s in SHAPES]


def test_enhanced_code_is_not_taken_from_ip_addresses_or_versions() -> None:
    assert smtp.extract_enhanced_code("connect to [192.0.2.55]: timed out") is None
    assert smtp.extract_enhanced_code("Yahoo - 4.16.55.1; see") is None


@pytest.mark.parametrize(("value", "expected"), [(550, 550), ("550", 550), (" 452 ", 452),
                                                 ("550.0", 550), (None, None), ("", None),
                                                 ("abc", None), (99, None)])
def test_parse_reply_code(value: object, expected: int | None) -> None:
    assert smtp.parse_reply_code(value) == expected


def test_parse_enhanced_code() -> None:
    assert smtp.parse_enhanced_code(" 5.1.1 ") == "5.1.1"
    assert smtp.parse_enhanced_code("5.01.001") == "5.1.1"
    assert smtp.parse_enhanced_code("dsn=4.2.2") == "4.2.2"
    assert smtp.parse_enhanced_code(None) is None


def test_normalise_joins_multiline_and_strips_repeated_codes() -> None:
    raw = ("550-5.7.26 Unauthenticated email from brightpath.example.com is not accepted due\r\n"
           "550-5.7.26 to domain's DMARC policy.\r\n"
           "550 5.7.26  https://support.google.com/mail/?p=DmarcRejection x.290 - gsmtp")
    assert smtp.normalise_reply(raw) == (
        "550 5.7.26 Unauthenticated email from brightpath.example.com is not accepted due to "
        "domain's DMARC policy. https://support.google.com/mail/?p=DmarcRejection x.290 - gsmtp")


def test_normalise_already_joined_and_prefixed_replies() -> None:
    joined = ("smtp; 452-4.2.2 The recipient's inbox is out of storage space. Please direct the "
              "452-4.2.2 recipient to 452 4.2.2  https://support.google.com/mail/?p=x - gsmtp")
    assert smtp.normalise_reply(joined) == (
        "452 4.2.2 The recipient's inbox is out of storage space. Please direct the recipient "
        "to https://support.google.com/mail/?p=x - gsmtp")
    assert smtp.normalise_reply("550 5.1.1 <a@b>: User unknown") == "550 5.1.1 <a@b>: User unknown"
    assert smtp.normalise_reply("  User   unknown\n") == "User unknown"
    assert smtp.normalise_reply(None) == ""


def test_normalise_keeps_a_different_enhanced_code_on_later_lines() -> None:
    raw = "550-5.7.1 first line\n550 5.7.26 second line"
    assert smtp.normalise_reply(raw) == "550 5.7.1 first line 5.7.26 second line"


@pytest.mark.parametrize(("given", "in_text", "reply", "expected"), [
    ("5.0.0", "5.1.1", 550, "5.1.1"),  # a specific code beats X.0.0
    ("5.1.0", "5.1.1", 550, "5.1.1"),  # ... and X.Y.0
    ("5.1.1", "5.0.0", 550, "5.1.1"),
    ("5.1.1", "5.7.1", 550, "5.7.1"),  # 5.1.1 yields to a specific text code
    ("5.1.1", "5.5.1", 550, "5.1.1"),  # ... but not to a protocol code
    ("5.1.3", "5.7.1", 550, "5.7.1"),
    ("4.4.7", "4.2.2", 452, "4.2.2"),  # vague given codes yield
    ("5.3.0", "5.2.2", 552, "5.2.2"),
    ("4.4.7", "5.1.1", 550, "5.1.1"),  # classes differ: the reply code's class decides
    ("5.2.2", "4.2.2", 452, "4.2.2"),
    ("5.2.2", "5.7.1", None, "5.2.2"),  # otherwise the given code stands
    (None, "5.1.1", None, "5.1.1"), ("5.1.1", None, None, "5.1.1"), (None, None, None, None),
])
def test_prefer_follows_sisimai(given: str | None, in_text: str | None, reply: int | None,
                                expected: str | None) -> None:
    """Sisimai's smtp/status Prefer(): which of a given and an in-text code to believe."""
    assert smtp.prefer(given, in_text, reply) == expected
