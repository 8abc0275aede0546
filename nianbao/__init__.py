"""nianbao: crawl, archive, parse and serve China's 政府信息公开工作年度报告.

    nianbao.crawler    the Scrapy project: portals → fetched bytes and where they came from
    nianbao.pipeline   bytes → canonical reports; the archive (store) that owns every write; the site
    nianbao.devkit     mock portals, report generator, synthetic archives: demo, tests, benchmarks only
    nianbao.cli        the one place that composes them (crawl → archive ← parse → site)
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nianbao")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0"
