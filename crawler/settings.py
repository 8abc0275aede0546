"""Scrapy settings of the nianbao project (scrapy.cfg points here, so `scrapy list`,
`scrapy shell`, `scrapy parse` and `scrapy check` see the same crawler as `nianbao crawl`).

Polite defaults: 2 concurrent requests per host with AutoThrottle, many hosts at once.
"""
BOT_NAME = "nianbao"
SPIDER_MODULES = ["nianbao.crawler.spiders"]
NEWSPIDER_MODULE = "nianbao.crawler.spiders"

# ASCII only: header values are latin-1 on the wire.
USER_AGENT = "nianbao/0.2 (+https://github.com/nianbao/nianbao; archive of government information disclosure annual reports)"
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "nianbao"

CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry, doubled each time (middlewares.py)
RETRY_BACKOFF_MAX = 60.0

DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024  # size cap for one file
DOWNLOAD_WARNSIZE = 30 * 1024 * 1024
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "nianbao.crawler.middlewares.RobotsMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "nianbao.crawler.middlewares.BackoffRetryMiddleware": 550,
    "nianbao.crawler.middlewares.ConditionalMiddleware": 580,
    "nianbao.crawler.middlewares.OffsiteRedirectMiddleware": 620,
    "nianbao.crawler.middlewares.AntiBotMiddleware": 650,
    "nianbao.crawler.middlewares.SiteDelayMiddleware": 660,
    # Next to the downloader: sees each response as received, before decompression,
    # redirects, retries and the 304 swap (crawler/warc.py).
    "nianbao.crawler.warc.WarcMiddleware": 890,
}
SPIDER_MIDDLEWARES = {"nianbao.crawler.warc.WarcRefMiddleware": 950}
ITEM_PIPELINES = {"nianbao.crawler.pipelines.ArchivePipeline": 300}
EXTENSIONS = {"nianbao.crawler.progress.CrawlProgress": 500}
SPIDER_CONTRACTS = {"nianbao.crawler.contracts.SavedPage": 10}  # `scrapy check` on saved pages
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"

# nianbao's own: the archive every fetch goes to, and where site configs are read
# (default: sites/ beside the archive).
NIANBAO_ARCHIVE = "archive.db"
NIANBAO_SITES = None
NIANBAO_STORE_LISTS = True  # keep list pages in the archive too
NIANBAO_DB_WAIT = 600  # seconds the crawl waits for another writer of the archive before it stops, loudly
# WARC 1.1 of every exchange (crawler/warc.py): on by default, in warc/ beside the
# archive unless NIANBAO_WARC_DIR says otherwise, a new file past NIANBAO_WARC_MAX_SIZE bytes.
NIANBAO_WARC = True
NIANBAO_WARC_DIR = None
NIANBAO_WARC_MAX_SIZE = 1_000_000_000
CRAWL_PROGRESS_INTERVAL = 10.0  # seconds between progress lines when stderr is not a terminal
