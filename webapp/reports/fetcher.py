"""The URL fetcher of the PDF renderer: it serves the report's own assets and refuses everything else.

WeasyPrint asks the fetcher for every URL a document names (stylesheets, images, fonts, links to
SVG). A report names only `report-asset:` URLs, which this fetcher answers from an allowlist built
by the renderer: the stylesheets in `webapp/static/reports/` and the assets generated for this one
report (a consultancy's logo). Any other URL — `file://`, `http(s)://` (the cloud metadata address
169.254.169.254 included), `data:`, another scheme, or a `report-asset:` name not on the list — is
refused and recorded, and nothing is read or fetched. User text reaches the document escaped, so it
cannot name a URL in the first place; the fetcher is the second wall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEME = "report-asset:"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "reports"

_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


class FetchRefused(ValueError):
    """WeasyPrint logs the refusal and leaves the resource out; the PDF is still written."""


@dataclass(frozen=True)
class Asset:
    data: bytes
    mime_type: str


def static_assets() -> dict[str, Asset]:
    """The stylesheets and images shipped for reports, under `report-asset:static/<name>`."""
    out = {}
    for path in sorted(STATIC_DIR.iterdir()):
        mime = _TYPES.get(path.suffix)
        if mime is not None and path.is_file():
            out[f"{SCHEME}static/{path.name}"] = Asset(path.read_bytes(), mime)
    return out


@dataclass
class AssetFetcher:
    """A WeasyPrint `url_fetcher` answering only the URLs in `assets`; records every request."""

    assets: Mapping[str, Asset]
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __call__(self, url: str, timeout: int = 10, ssl_context: Any = None, **_: Any) -> dict[str, Any]:
        asset = self.assets.get(url) if url.startswith(SCHEME) else None
        if asset is None:
            self.refused.append(url[:300])
            raise FetchRefused(f"report renderer refused to fetch {url[:120]!r}")
        self.served.append(url)
        return {"string": asset.data, "mime_type": asset.mime_type, "redirected_url": url}
