"""Peer crawlers the benchmark measures scrapeyard against, and their private virtualenv.

Each peer is a standalone script run by ``bench/.venv-peers/bin/python`` as a subprocess:
it takes the start URL, ``--out FILE`` and ``--select NAME=CSS::text`` options, and
writes one JSON line per fetched page with ``url`` and the selected fields.
"""
