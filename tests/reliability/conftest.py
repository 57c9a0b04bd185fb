"""The fast reliability checks reuse the integration tests' app fixture."""

import pytest

from tests.integration.conftest import api  # noqa: F401  (the real app on a clean database)


@pytest.fixture(autouse=True)
def fresh_sign_in_counts():
    """Each test starts with no sign-in failures counted in this process."""
    from therabee.services import ratelimit

    ratelimit.reset_memory()
    yield
    ratelimit.reset_memory()
