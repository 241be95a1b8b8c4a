"""The default bundle's contract and a checked `/generate` call, shared by the
test_service_* modules."""

from __future__ import annotations

import httpx

from app.synthesis.bundle import read_meta
from tests.conftest import DEFAULT_BUNDLE

META = read_meta(DEFAULT_BUNDLE)
RATE = META.contract["sample_rate"]
SAMPLES = META.contract["clip_samples"]


def generate(client: httpx.Client, **params) -> httpx.Response:
    response = client.post("/generate", params=params)
    assert response.status_code == 200, response.text
    return response
