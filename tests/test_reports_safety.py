"""The PDF renderer fetches nothing but the report's own assets, and gives up after its time limit."""

from __future__ import annotations

import os

import pytest

from webapp.reports import render
from webapp.reports.cache import ReportCache
from webapp.reports.fetcher import SCHEME, Asset, AssetFetcher, FetchRefused, static_assets
from webapp.reports.services import _initials

OWN_CSS = f"{SCHEME}static/report.css"
HOSTILE_URLS = [
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://example.com/logo.png",
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
    "ftp://example.com/x.css",
    f"{SCHEME}../../../etc/passwd",
    f"{SCHEME}branding/1.png",  # a logo nobody handed the renderer
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_fetcher_refuses_and_records_everything_else(url):
    fetcher = AssetFetcher(static_assets())
    with pytest.raises(FetchRefused):
        fetcher(url)
    assert fetcher.refused == [url] and fetcher.served == []


def test_the_fetcher_serves_the_reports_own_assets():
    fetcher = AssetFetcher({**static_assets(), f"{SCHEME}branding/7.png": Asset(b"\x89PNG", "image/png")})
    css = fetcher(OWN_CSS)
    assert css["mime_type"] == "text/css" and b"Noto Sans CJK SC" in css["string"]
    assert fetcher(f"{SCHEME}branding/7.png")["string"] == b"\x89PNG"
    assert fetcher.served == [OWN_CSS, f"{SCHEME}branding/7.png"] and fetcher.refused == []


def test_a_document_naming_outside_urls_renders_without_them():
    html = (
        '<html lang="zh-CN"><head>'
        f'<link rel="stylesheet" href="{OWN_CSS}">'
        '<link rel="stylesheet" href="http://169.254.169.254/latest/meta-data/">'
        '<style>@import url("https://example.com/x.css");</style>'
        "</head><body><p>质评通</p>"
        '<img src="file:///etc/passwd"><img src="https://example.com/x.png">'
        f'<img src="{HOSTILE_URLS[3]}">'
        "</body></html>"
    )
    rendered = render.render_pdf(html, static_assets(), timeout=60)
    assert rendered.pdf.startswith(b"%PDF")
    assert rendered.served == (OWN_CSS,)
    assert set(rendered.refused) == {
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/x.css",
        "file:///etc/passwd",
        "https://example.com/x.png",
        HOSTILE_URLS[3],
    }
    assert b"/Subtype /Image" not in rendered.pdf


def test_the_time_limit_stops_the_worker_and_a_new_one_takes_over():
    big = "<html><body>" + "<p>质量第一 Quality first</p>" * 4000 + "</body></html>"
    with pytest.raises(render.RenderTimeout, match=r"longer than 0\.05 seconds"):
        render.render_pdf(big, {}, timeout=0.05)
    assert render.render_pdf("<p>ok</p>", {}, timeout=60).pages == 1


# ---- small parts ----------------------------------------------------------------------------------


def test_the_cache_is_atomic_and_prunes_the_least_recently_used(tmp_path):
    cache = ReportCache(tmp_path, max_bytes=3050)
    keys = [f"{i:064x}" for i in range(3)]
    for i, key in enumerate(keys):
        cache.put(key, "pdf", bytes(1000))
        os.utime(cache.path(key, "pdf"), (1000 + i, 1000 + i))
    cache.get(keys[0], "pdf")  # used again: now the most recent
    cache.put("f" * 64, "html", bytes(100))  # 3100 bytes: one report has to go
    assert cache.get(keys[1], "pdf") is None  # the least recently used
    assert cache.get(keys[0], "pdf") == bytes(1000) and cache.get(keys[2], "pdf") == bytes(1000)
    assert cache.get("f" * 64, "html") == bytes(100)
    assert not list(tmp_path.rglob(".tmp-*"))
    with pytest.raises(ValueError):
        cache.path("../etc/passwd", "pdf")


def test_a_consultancy_mark_without_a_logo():
    assert _initials("浙江卓越质量管理咨询有限公司") == "卓越"
    assert _initials("杭州市品质咨询有限公司") == "品质"
    assert _initials("Acme Quality Partners") == "AQ"
