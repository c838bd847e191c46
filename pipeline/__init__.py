"""notecast: turn Markdown notes into social posts and publish them safely."""

__version__ = "0.1.0"
