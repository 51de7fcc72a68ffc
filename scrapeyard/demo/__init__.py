"""The demo shop ``scrapeyard demo`` crawls."""
