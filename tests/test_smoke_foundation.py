"""Foundation smoke tests: the factory builds an app whose pages answer."""


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_unknown_page_gets_site_404(client):
    response = client.get("/treatments/no-such-thing")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"Skip to main content" in response.data
