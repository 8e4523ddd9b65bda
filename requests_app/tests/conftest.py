from requests_app.tests.smtp import smtp_server_fixture  # noqa: F401  (fixture)
