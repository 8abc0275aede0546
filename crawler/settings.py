"""Polite defaults. Per-domain concurrency 2 with AutoThrottle; many domains at once."""
from __future__ import annotations

# ASCII only: header values are latin-1 on the wire.
USER_AGENT = "nianbao/0.1 (+https://github.com/nianbao/nianbao; archive of government information disclosure annual reports)"

SETTINGS = {
    "BOT_NAME": "nianbao",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "ROBOTSTXT_USER_AGENT": "nianbao",
    "CONCURRENT_REQUESTS": 64,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "DOWNLOAD_DELAY": 0.25,
    "DOWNLOAD_DELAY_JITTER": 0.5,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.5,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.5,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 3,
    "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
    "RETRY_BACKOFF_BASE": 1.0,
    "RETRY_BACKOFF_MAX": 60.0,
    "DOWNLOAD_TIMEOUT": 60,
    "DOWNLOAD_MAXSIZE": 100 * 1024 * 1024,  # size cap for one file
    "DOWNLOAD_WARNSIZE": 30 * 1024 * 1024,
    "COOKIES_ENABLED": True,
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawler.middlewares.BackoffRetryMiddleware": 550,
        "crawler.middlewares.AntiBotMiddleware": 650,
    },
    "ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 300},
    "EXTENSIONS": {"crawler.progress.CrawlProgress": 500},
    "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
}

# Tests and benchmarks against local mock portals: no artificial delay.
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0, "RETRY_BACKOFF_BASE": 0.05, "LOG_LEVEL": "WARNING"}
