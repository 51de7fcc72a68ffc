"""The crawl engine: URLs, the SSRF guard, fetching, robots.txt, sitemaps and extraction."""
