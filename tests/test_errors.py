"""An unexpected server fault answers a generic problem document: no stack trace, no
exception text, nothing internal in the body or the headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.conftest import DEFAULT_BUNDLE


def test_internal_error_reveals_nothing():
    app = create_app(Settings(bundle_path=DEFAULT_BUNDLE))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret path /etc/shadow in a traceback")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 200  # lifespan ran: a real, loaded app
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "internal error; it has been logged"
    everything = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    assert "secret" not in everything and "Traceback" not in everything
