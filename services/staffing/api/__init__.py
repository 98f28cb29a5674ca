"""Staffing over HTTP: each module builds the routers of one area; `app.py` mounts them."""
