"""LinkedIn: one post of up to 3,000 characters (rules.py), sent through the Posts API (publisher.py)."""
from __future__ import annotations

from .. import Setting
from .publisher import LinkedInPublisher
from .rules import LinkedIn

__all__ = ["platform"]

platform = LinkedIn(
    name="linkedin",
    title="LinkedIn",
    limit=3000,
    threads=False,
    max_images=20,
    alt_limit=4086,
    cards=True,
    overflow="truncate",
    settings=(
        Setting("author", placeholder="urn:li:person:YOUR-ID", help="urn:li:person:… or urn:li:organization:…"),
        Setting("token", secret=True, placeholder="<NOTECAST_LINKEDIN_TOKEN>", help="OAuth access token (60 days)"),
        Setting("version", default="202609", help="LinkedIn-Version header, YYYYMM"),
        Setting("api", url=True, default="https://api.linkedin.com", help="API base URL"),
        Setting("token_expires", expires=True, doctor=True,
                help="the day the token expires, YYYY-MM-DD (60 days after you made it): doctor warns 14 days ahead"),
        Setting("client_id", doctor=True, help="your app's Client ID: lets doctor ask LinkedIn when the token expires"),
        Setting("client_secret", secret=True, doctor=True,
                help="your app's Client Secret: lets doctor ask LinkedIn when the token expires"),
    ),
    publisher_class=LinkedInPublisher,
)
