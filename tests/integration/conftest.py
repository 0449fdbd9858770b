from tests.shared_fixtures import postgres_url, real_data  # noqa: F401
