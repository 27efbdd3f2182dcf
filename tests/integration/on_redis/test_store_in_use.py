"""The folder's server really keeps its state in Redis (so the imported tests ran on it)."""

import redis

from mockserver.core.shared_store.store import RedisStore


def test_the_server_state_is_in_redis(runtime, http, redis_url: str) -> None:
    assert isinstance(runtime.store, RedisStore)
    made = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).json()
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.exists(f"mockserver:r:prediction:{made['id']}") == 1
    finally:
        client.close()
