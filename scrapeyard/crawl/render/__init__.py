"""Rendering pages in a headless browser, as safely and politely as fetching them.

    options.py     render: never|always|auto, wait_for, actions, captures: validated
    runtime.py     finding Chromium, launching it with no network path of its own
    pool.py        one browser per worker process, bounded pages, restarts, sessions
    guard.py       request interception: every request is made by us, or refused
    transport.py   the guard's way out: the crawl's fetcher, robots.txt, politeness
    waits.py       selector, network idle, delay; the default settle
    actions.py     click, type, press, scroll, scroll to the end, wait, evaluate
    outputs.py     screenshots and PDFs, written beside exports
    detect.py      ``auto``: which pages need the browser, remembered per host
    rendering.py   one page through all of the above

Only ``options`` is imported by the crawl engine up front; Playwright is imported when
a page is first rendered, so processes that never render stay small.
"""
