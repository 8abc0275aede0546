"""The shared frontier: many crawl workers (Scrapyd jobs on any number of machines), one
Redis, one archiver. See frontier.py for the design, docs/operations.md for the recipe."""
