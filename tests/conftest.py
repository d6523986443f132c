"""Shared fixtures: sample paths, a fresh in-memory workspace, the sample story loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.store import Store

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SAMPLES = FIXTURES / "samples"

# The time zone of each sample file whose stamps carry no offset (samples/STORY.md,
# "File inventory"); files not listed state their zone or use UTC.
SAMPLE_TZ = {
    "esp/touchbasepro_activity.csv": "Africa/Johannesburg",
    "esp/touchbasepro_bounces.xlsx": "Africa/Johannesburg",
    "esp/campaignmonitor_api_campaign_bounces.json": "Africa/Johannesburg",
    "exchange/get-messagetrackinglog_export.csv": "America/New_York",
    "posix/postfix_syslog.log": "Europe/Paris",
    "posix/postfix_maillog_file.log": "Europe/Paris",
    "posix/sendmail_maillog.log": "America/New_York",
    "posix/exim_mainlog.log": "UTC",
}


@pytest.fixture
def store() -> Store:
    s = Store(":memory:")
    yield s
    s.close()


def sample(rel: str) -> Path:
    return SAMPLES / rel
