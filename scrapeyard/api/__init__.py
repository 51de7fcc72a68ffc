"""The HTTP API: FastAPI routers under ``/v1``, health, metrics, and the error envelope.

``scrapeyard.app.create_app`` assembles it; nothing here opens a database by itself.
Pydantic models live here and nowhere else (``schemas.py``).
"""
