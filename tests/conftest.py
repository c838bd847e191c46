"""Fixtures shared by every test folder."""
from __future__ import annotations

import os

import pytest

import pages as pages_site
import pds_server
from pipeline import http


def _pds_required() -> bool:
    """In CI (or with NOTECAST_REQUIRE_PDS=1) a missing PDS fails the tests instead of skipping them."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("NOTECAST_REQUIRE_PDS") == "1"


@pytest.fixture(scope="session")
def pds():
    """The local Bluesky PDS (tests/pds_server.py), started once per session on a free loopback port."""
    if not pds_server.installed():
        why = f"the local Bluesky PDS is not installed in {pds_server.PEER}; run `bash tests/pds/install.sh`"
        if _pds_required():
            pytest.fail(f"{why} (required here: CI or NOTECAST_REQUIRE_PDS=1 is set)", pytrace=False)
        pytest.skip(why)
    server = pds_server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_cards(monkeypatch):
    """Tests reach no server but their own: link cards are off unless a test turns them on
    (``monkeypatch.delenv("NOTECAST_CARDS")``) and serves the pages itself (tests/test_cards.py)."""
    monkeypatch.setenv("NOTECAST_CARDS", "off")


@pytest.fixture
def pages(monkeypatch):
    """A web site on 127.0.0.1 (tests/pages.py) to make link cards from; cards are turned on."""
    monkeypatch.delenv("NOTECAST_CARDS")
    server = pages_site.Server()
    yield server
    server.stop()


@pytest.fixture
def sleeps(monkeypatch):
    """Every wait the HTTP layer asked for, instead of waiting."""
    waits: list[float] = []
    monkeypatch.setattr(http, "_sleep", waits.append)
    return waits
