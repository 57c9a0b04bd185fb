"""Every path the UI links to, in one place."""

INDEX = "/"
API_DOCS = "/api/v1/docs"
HEALTH = "/api/v1/health"
