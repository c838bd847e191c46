"""Threads (Meta): threads of 500 characters (rules.py), sent as two-step media containers (publisher.py)."""
from __future__ import annotations

from .. import Setting
from .publisher import ThreadsPublisher
from .rules import Threads

__all__ = ["platform"]

platform = Threads(
    name="threads",
    title="Threads",
    limit=500,
    threads=True,
    max_images=1,
    alt_limit=1000,
    settings=(
        Setting("user_id", placeholder="YOUR-THREADS-USER-ID", help="your Threads user id (GET /me?fields=id)"),
        Setting("token", secret=True, placeholder="<NOTECAST_THREADS_TOKEN>",
                help="long-lived access token: threads_basic threads_content_publish (60 days, refreshable)"),
        Setting("media_base_url", help="public URL prefix of the notes' images, e.g. a repository's raw URL"),
        Setting("api", default="https://graph.threads.net", help="API host (graph.threads.net or graph.threads.com)"),
    ),
    publisher_class=ThreadsPublisher,
)
