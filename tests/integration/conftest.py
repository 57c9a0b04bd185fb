import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(clean_db):
    """The real app (outer FastAPI with /api/v1) on a clean test database."""
    from therabee.api.app import create_app

    with TestClient(create_app()) as client:
        yield client
