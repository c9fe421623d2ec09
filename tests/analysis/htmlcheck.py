"""Parse a report: its sections and embedded images."""

import base64
import io
from html.parser import HTMLParser

from PIL import Image


class ReportParser(HTMLParser):
    """Collects section ids in order, and each ``<img>``'s section and ``src``."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id", ""))
        elif tag == "img":
            self.images.append((self.sections[-1] if self.sections else "", attrs.get("src", "")))

    def handle_data(self, data):
        self.text.append(data)


def parse_report(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    return parser


def decode_data_uri(src: str) -> Image.Image:
    """Decode a ``data:image/png;base64,...`` URI fully with Pillow."""
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:40]
    image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :], validate=True)))
    assert image.format == "PNG"
    image.load()
    return image
