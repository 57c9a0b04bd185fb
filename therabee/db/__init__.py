"""Persistence: every table module is imported here so Alembic and the tests see them all."""

from therabee.db import models, models_rules  # noqa: F401
