from tests.shared_fixtures import real_data  # noqa: F401
