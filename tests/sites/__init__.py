"""Web sites for the crawl tests, served for real on loopback addresses.

``server`` runs aiohttp apps in a thread of their own and logs every request they get;
``generated`` builds a small site with every trap a crawler meets (robots.txt rules,
sitemaps, redirects, duplicate URL spellings, files, external links); ``tree`` builds
sites of many plain pages, optionally slow; ``hostile`` holds pages that try to hang,
exhaust or misdirect a crawler.
"""
