"""A real headless Chromium for page tests (Debian's chromium and chromium-driver, via selenium).

Fixture ``browser``: a fresh browser per test with browser-console and network logs on. Without
Chromium on the machine the tests that use it are skipped, and fail instead when
``DISPATCH_REQUIRE_BROWSER=1`` (CI installs it), so a missing browser shows as red, not as skips.

Helpers: `console_errors` (severe console messages), `requested_urls` (every request the page
made, from the DevTools network log) and `is_blank` (a screenshot with no content).

This module is a pytest plugin, registered in tests/conftest.py.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("DISPATCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DISPATCH_CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRE_ENV = "DISPATCH_REQUIRE_BROWSER"
# The flags that keep Chromium quiet on a machine with no internet: no background connections,
# no updates, no sync, no first-run pages.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"a browser is required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"no headless browser: {reason}")


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver) with console and network logging."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        _unavailable(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dispatch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """Severe browser-console messages since the last call (page errors, failed requests)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call, from the DevTools network log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def leaves_the_machine(url: str) -> bool:
    """True for a request to anywhere but this machine (file:, data:, loopback are local)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "blob", "about", "chrome", "chrome-untrusted", "devtools"):
        return False
    return parsed.hostname not in ("127.0.0.1", "localhost", "::1")


def is_blank(png: bytes) -> bool:
    """True when a screenshot is one flat colour (nothing drawn)."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(io.BytesIO(png), format="png")
    return bool(np.asarray(pixels)[..., :3].std() < 0.01)
