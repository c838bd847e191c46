"""Images a note refers to: where they are, whether they may be used, their alt text (and the other
attachments, which are never posted)."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

from .document import Attachment, Document
from .errors import Problem, Rejected
from .notes import Note
from .richtext import clean
from .vault import Vault

TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
# The first bytes of each image type (WebP: "RIFF", a 4-byte size, then "WEBP"), by file suffix.
SIGNATURES = {".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
              ".gif": (b"GIF87a", b"GIF89a"), ".webp": (b"RIFF",)}


@dataclass(frozen=True)
class Media:
    """An image to attach: its file (relative to the current folder when possible) and alt text."""

    path: Path
    alt: str
    line: int

    @property
    def mime(self) -> str:
        return TYPES.get(self.path.suffix.lower(), "application/octet-stream")

    def for_platform(self, alt_limit: int) -> "Media":
        return dataclasses.replace(self, alt=self.alt[:alt_limit]) if len(self.alt) > alt_limit else self

    def read(self) -> bytes:
        """The image's bytes, or an error naming the file that cannot be read."""
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"{self.path.as_posix()}: cannot read the image: {exc.strerror}",
                           hint="check the file, or remove the image from the note") from None

    def prepare(self, limit: int, platform: str) -> "Upload":
        """The image as it is uploaded: the file itself if it has at most ``limit`` bytes, else a smaller
        copy made with Pillow (refused, saying how to fix it, without Pillow); with its size where known."""
        data = self.read()
        where = self.path.as_posix()
        try:
            from PIL import Image  # the optional extra "images": only to measure and shrink
        except ImportError:
            if len(data) > limit:
                raise Rejected(f"{where}: {len(data):,} bytes is over {platform}'s {limit:,} bytes per image",
                               hint="make the image smaller, or install Pillow so notecast can shrink it: "
                                    "pip install 'notecast[images]'") from None
            return Upload(self.path.name, data, self.mime)
        try:
            with Image.open(BytesIO(data)) as image:
                if len(data) <= limit:
                    return Upload(self.path.name, data, self.mime, image.size)
                smaller = shrink(image, len(data), limit, tries=8)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            if len(data) <= limit:
                return Upload(self.path.name, data, self.mime)  # Pillow cannot read it; the platform may
            raise Rejected(f"{where}: cannot read the image to shrink it: {exc}",
                           hint=f"make it smaller than {limit:,} bytes yourself") from None
        if smaller is None:
            raise Rejected(f"{where}: could not shrink the image under {limit:,} bytes", hint="make it smaller")
        out, mime, size = smaller
        return Upload(self.path.stem + (".png" if mime == "image/png" else ".jpg"), out, mime, size)


@dataclass(frozen=True)
class Upload:
    """An image as it is sent: file name, bytes, type, and (width, height) where Pillow could read it."""

    name: str
    data: bytes
    mime: str
    size: tuple[int, int] | None = None


def shrink(image, size: int, limit: int, *, tries: int) -> tuple[bytes, str, tuple[int, int]] | None:
    """A Pillow ``image`` of ``size`` bytes re-encoded under ``limit`` bytes: turned upright (re-encoding
    drops the EXIF orientation, and every other metadata), PNG if it has transparency, else JPEG at quality
    85, scaled down a little more at each of ``tries`` (an image already under ``limit`` is first tried at its
    own size). Its bytes, type and (width, height); None if the tries were not enough."""
    from PIL import Image, ImageOps  # the optional extra "images"

    image = ImageOps.exif_transpose(image)
    alpha = image.mode in ("RGBA", "LA", "P")
    image = image.convert("RGBA" if alpha else "RGB")
    scale = min(1.0, (limit / max(size, 1)) ** 0.5 * 0.9)
    for _ in range(tries):
        dimensions = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        out = BytesIO()
        image.resize(dimensions, Image.LANCZOS).save(out, "PNG" if alpha else "JPEG", quality=85, optimize=True)
        if out.tell() <= limit:
            return out.getvalue(), "image/png" if alpha else "image/jpeg", dimensions
        scale *= 0.7
    return None


def resolve(note: Note, src: str, vault: Vault) -> Path | None:
    """Where an image reference points: beside the note, else wherever Obsidian would find the name in the vault.

    None for a web address, which notecast does not download.
    """
    src = unquote(src.split("#")[0].split("?")[0]).replace("\x00", "\ufffd")  # no file name holds a NUL
    if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I):
        return None
    candidate = vault.root / src.lstrip("/") if src.startswith("/") else note.path.parent / src
    if not src.strip() or candidate.is_file():
        return candidate
    return vault.lookup(src) or candidate


def gather(note: Note, doc: Document, vault: Vault, *,
           follow_external: bool = False) -> tuple[tuple[Media, ...], list[Problem]]:
    """The usable images of a note and a problem for each one that is not (or has no alt text);
    ``follow_external`` allows an image whose symbolic link leads out of the vault."""
    media, problems = [], []
    root = vault.real_root
    for span in doc.nodes:
        if isinstance(span, Attachment):
            problems.append(Problem(str(note.path), span.line,
                                    f"{span.kind} {span.src} is not posted (only images are); its name stands in the text",
                                    "link to it from a page instead, or attach an image", "warning"))
    for image in doc.images:
        where = (str(note.path), image.line)
        path = resolve(note, image.src, vault)
        if path is None:
            problems.append(Problem(*where, f"image {image.src} is a web address and is not attached",
                                    "download it next to the note", "warning"))
            continue
        if not path.resolve().is_relative_to(root) and not (follow_external and _named_inside(path, vault.root)):
            problems.append(Problem(*where, f"image {image.src} is outside the notes folder",
                                    "keep images inside the vault, e.g. in attachments/ (a symbolic link out of it "
                                    "needs follow_external_symlinks = true in notecast.toml)"))
            continue
        if not path.is_file():
            problems.append(Problem(*where, f"image {image.src} not found",
                                    "check the file name, or remove the image from the note"))
            continue
        broken = _broken(path)
        if broken:
            problems.append(Problem(*where, f"image {image.src} {broken}",
                                    "export the image again from its source, or remove it from the note"))
            continue
        if not image.alt:
            problems.append(Problem(*where, f"image {image.src} has no alt text",
                                    "describe it for people who cannot see it: ![a small plant growing](…)", "warning"))
        media.append(Media(_relative(path), clean(image.alt), image.line))
    return tuple(media), problems


def _broken(path: Path) -> str:
    """Why the image file cannot be what its name says (empty, or other bytes than its type's), or ""."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if not head:
        return "is an empty file (0 bytes)"
    suffix = path.suffix.lower()
    kind = TYPES.get(suffix, "").removeprefix("image/").upper()
    if suffix in SIGNATURES and not (head.startswith(SIGNATURES[suffix])
                                     and (suffix != ".webp" or head[8:12] == b"WEBP")):
        return f"is not a {kind} image (its first bytes are {head[:8]!r})"
    return ""


def _named_inside(path: Path, vault: Path) -> bool:
    """Whether ``path`` is inside ``vault`` by name (so only a symbolic link can lead it out)."""
    return Path(os.path.normpath(path.absolute())).is_relative_to(os.path.normpath(vault.absolute()))


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
