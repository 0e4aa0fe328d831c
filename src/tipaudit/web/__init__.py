"""The web console, the public pages and the JSON API (FastAPI)."""
