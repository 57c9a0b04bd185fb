"""Zoom: Server-to-Server OAuth, the meetings API client and webhook verification."""
