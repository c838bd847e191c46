"""A small web site on 127.0.0.1 for link card tests: pages with and without Open Graph tags, images good and
bad, and the ways a page can fail (404, a redirect loop, a huge page, a slow server).

Plain ``http.server``, no pytest: the ``pages`` fixture in conftest.py starts one per test.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO


@lru_cache(maxsize=1)
def photo() -> bytes:
    """A JPEG of random pixels (over 1 MB: it must be shrunk) whose EXIF names a camera and a place."""
    from PIL import Image

    rng = random.Random(13)
    image = Image.frombytes("RGB", (1600, 1000), rng.randbytes(1600 * 1000 * 3))
    exif = Image.Exif()
    exif[0x010F] = "CanaryCam"  # Make
    exif[0x0110] = "Model Secret-Place-42"  # Model
    out = BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    assert out.tell() > 1_000_000
    return out.getvalue()


@lru_cache(maxsize=1)
def small_png() -> bytes:
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def page(title: str = "", description: str = "", image: str = "", extra: str = "") -> bytes:
    tags = "".join(f'<meta property="og:{k}" content="{v}">' for k, v in
                   (("title", title), ("description", description), ("image", image)) if v)
    return (f"<!doctype html><html><head><meta charset=utf-8><title>Not the og title</title>{tags}{extra}"
            "</head><body><p>Hello</p></body></html>").encode()


HUGE = 30_000_000  # bytes the huge pages would send


class Site(BaseHTTPRequestHandler):
    """Answers by path; counts every request (``hits``) and what the huge page managed to send (``sent``)."""

    hits: Counter = Counter()
    sent: dict[str, int] = {}
    files: dict[str, tuple[str, bytes]] = {}

    def do_GET(self):
        self.hits[self.path] += 1
        route = getattr(self, "route_" + self.path.strip("/").split("?")[0].replace("-", "_").replace("/", "__"), None)
        if route:
            return route()
        if self.path in self.files:
            return self.answer(200, *self.files[self.path])
        return self.answer(404, "text/html", b"<title>Not found</title>")

    def route_article(self):
        self.answer(200, "text/html; charset=utf-8", page(
            "Gardens &amp; notes", "Why a digital garden grows   better\nin public.", "/images/photo.jpg"))

    def route_fallback__page(self):  # no Open Graph: <title>, meta description, a relative twitter:image
        self.answer(200, "text/html", b'<html><head><title> Plain  title </title>'
                    b'<meta name="description" content="Plain description">'
                    b'<meta name="twitter:image" content="../images/small.png"></head><body></body></html>')

    def route_bare(self):
        self.answer(200, "text/html", b"<html><body><p>No head, no tags, no title.</p></body></html>")

    def route_loop(self):
        self.send_response(302)
        self.send_header("Location", "/loop")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_moved(self):
        self.send_response(301)
        self.send_header("Location", "/article")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_huge(self):
        self.stream(page("A huge page", "Its head comes first.", "/images/small.png"))

    def route_huge_untagged(self):
        self.stream(b"<html><head></head><body>")

    def stream(self, head: bytes):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        sent, chunk = 0, b"<p>" + b"x" * 65_529 + b"</p>\n"
        try:
            self.wfile.write(head)
            sent = len(head)
            while sent < HUGE:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:  # the client stopped reading: that is the point
            pass
        finally:
            self.sent[self.path] = sent

    def route_not_an_image(self):
        self.answer(200, "text/html", page("Its image is a page", "", "/article"))

    def route_svg(self):
        self.answer(200, "text/html", page("Its image is a drawing", "", "/drawing.svg"))

    def route_slow(self):
        time.sleep(2)
        self.answer(200, "text/html", page("Too late", "", ""))

    def route_pdf(self):
        self.answer(200, "application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def route_latin1(self):
        self.answer(200, "text/html; charset=iso-8859-1", "<title>Café crème</title>".encode("latin-1"))

    def answer(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class Server:
    """A running site: ``url(path)``, ``hits``, ``sent``; stop it with ``stop()``."""

    def __init__(self):
        Site.hits, Site.sent = Counter(), {}
        Site.files = {"/images/photo.jpg": ("image/jpeg", photo()), "/images/small.png": ("image/png", small_png()),
                      "/drawing.svg": ("image/svg+xml", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')}
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Site)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.hits, self.sent, self.files = Site.hits, Site.sent, Site.files

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_port}{path}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
