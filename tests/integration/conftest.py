import pytest

from tests.conftest import skip_or_fail
from tests.integration.workers import REDIS_URL


@pytest.fixture
def shared_redis():
    """The suite's Redis database (MIEN_TEST_REDIS_URL), emptied before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
