from tests.auth.oauth_server.conftest import mobile_fixture  # noqa: F401 - the `mobile` fixture
