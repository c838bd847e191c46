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
        Setting("api", default="https://api.linkedin.com", help="API base URL"),
    ),
    publisher_class=LinkedInPublisher,
)
