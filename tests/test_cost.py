"""What a run would cost on a pay-per-use API, estimated in ``publish --dry-run`` from the platform's prices.

X bills each post, a post with a link much more, and each image's alt text (a media metadata request); the
prices are settings with X's published prices as defaults (pipeline/platforms/x/rules.py says where and when
they were read). Other platforms cost nothing and show no estimate.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.errors import UsageError
from pipeline.media import Media
from pipeline.platforms import bluesky, x
from pipeline.platforms.x.rules import PRICE_ALT_TEXT, PRICE_POST, PRICE_POST_WITH_LINK
from pipeline.publisher import Part

CREATED = datetime(2026, 11, 29, tzinfo=timezone.utc)
THREAD = "---\ntitle: A thread\nnotecast:\n  status: ready\n  platforms: [x, bluesky]\n  x: {numbering: on}\n---\n" + \
    "\n\n".join(f"Paragraph {i} is long enough that X needs a post for it alone, because each one goes on and on "
                 f"about the idea, the details, and then a few more details about the details, number {i}."
                 for i in range(1, 12)) + "\n\nRead more at https://notes.example.com/a-thread/\n"


def part(text: str, *alts: str) -> Part:
    media = tuple(Media(Path(f"{i}.png"), alt, 1) for i, alt in enumerate(alts))
    return Part("posts/a.md", "x", 0, 1, text, media=media, created=CREATED)


def test_the_defaults_are_x_published_prices():
    assert (PRICE_POST, PRICE_POST_WITH_LINK, PRICE_ALT_TEXT) == (0.015, 0.200, 0.005)


def test_a_post_with_a_link_costs_more_as_x_counts_links():
    assert x.platform.cost(part("Plain words.")) == pytest.approx(0.015)
    assert x.platform.cost(part("Read https://notes.example.com/a")) == pytest.approx(0.200)
    assert x.platform.cost(part("Read notes.example.com")) == pytest.approx(0.200)  # X links a bare domain too
    assert x.platform.cost(part("Two images.", "a cat", "")) == pytest.approx(0.015 + 0.005)  # one alt text
    assert x.platform.cost(part("Read notes.example")) == pytest.approx(0.015)  # not a TLD: X shows it as text


def test_prices_are_settings():
    priced = x.platform.configure({"price_post": "0.01", "price_post_with_link": 0.25, "price_alt_text": "0"})
    assert priced.cost(part("Plain.", "alt")) == pytest.approx(0.01)
    assert priced.cost(part("https://a.example.com")) == pytest.approx(0.25)
    with pytest.raises(UsageError, match=r"\[platforms.x\] price_post must be a price in US dollars"):
        x.platform.configure({"price_post": "cheap"})
    with pytest.raises(UsageError):
        x.platform.configure({"price_post_with_link": "-1"})


def test_a_free_platform_has_no_cost():
    assert bluesky.platform.cost(part("Anything https://a.example.com")) is None


@pytest.fixture
def vault(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("NOTECAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NOTECAST_NOW", "2026-11-29T12:00:00Z")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "thread.md").write_text(THREAD, encoding="utf-8")
    return tmp_path


def sent(out: str) -> int:
    """How many posts the dry run would send to X."""
    return int(re.search(r"== posts/thread.md → x: would send (\d+) of", out).group(1))


def test_the_dry_run_shows_the_price_of_a_thread(vault, capsys):
    assert cli.main(["publish", "--dry-run", "posts/"]) == 0
    out = capsys.readouterr().out
    n = sent(out)
    assert n > 5 and f"would send {n} of {n} post(s) (due; estimated cost ${(n - 1) * 0.015 + 0.2:.3f})" in out
    (bsky,) = [line for line in out.splitlines() if line.startswith("== posts/thread.md → bluesky:")]
    assert "cost" not in bsky
    assert f"estimated cost on x: ${(n - 1) * 0.015 + 0.2:.3f} at the prices of [platforms.x] (pay-per-use; see README)" in out
    assert "estimated cost on bluesky" not in out


def test_the_dry_run_uses_the_configured_prices(vault, monkeypatch, capsys):
    (vault / "notecast.toml").write_text("[platforms.x]\nprice_post = 0.01\nprice_post_with_link = 0.1\n")
    monkeypatch.setenv("NOTECAST_X_PRICE_POST", "0.02")  # the environment wins, as for every setting
    assert cli.main(["publish", "--dry-run", "-p", "x", "posts/"]) == 0
    out = capsys.readouterr().out
    cost = (sent(out) - 1) * 0.02 + 0.1  # the post with the link at the file's price, the others at the environment's
    assert f"(due; estimated cost ${cost:.3f})" in out and f"estimated cost on x: ${cost:.3f}" in out


def test_a_bad_price_is_an_error_naming_the_setting(vault, capsys):
    (vault / "notecast.toml").write_text('[platforms.x]\nprice_post = "free"\n')
    assert cli.main(["publish", "--dry-run", "-p", "x", "posts/"]) == 1
    assert "error: [platforms.x] price_post must be a price in US dollars such as 0.015, not 'free'" in \
        capsys.readouterr().err
