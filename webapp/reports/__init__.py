"""Improvement reports: bilingual PDF and HTML a firm can hand to its board and its auditor.

`services` builds a report's content as plain values and puts a disk cache in front of rendering;
`charts` draws the SVG charts (pygal); `render` runs WeasyPrint in a worker process with a time limit;
`fetcher` lets that renderer fetch only the report's own assets; `cache` keeps finished reports;
`jobs` builds a consultant's many reports into a zip (on RQ when REDIS_URL is set).
"""
