"""Headless Chromium from the system's packages, driven by Selenium (no browser download).

Tests that need it take the ``browser`` fixture of their module; without
``/usr/bin/chromium`` (or ``chromium`` on PATH) and chromedriver they skip,
unless ``REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
Screenshots go to ``$SCREENSHOTS_DIR`` when set, else under pytest's
temporary directory; the path is printed in the test's output.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
#: Generous: the machine may be shared and slow; a wait ends as soon as its condition holds.
WAIT_SECONDS = 30.0


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def executables() -> tuple[str, str] | None:
    browser = _find("chromium", "chromium-browser", "google-chrome")
    driver = _find("chromedriver")
    return (browser, driver) if browser and driver else None


def require_browser() -> tuple[str, str]:
    """The browser and its driver, or skip (fail under ``REQUIRE_BROWSER=1``)."""
    found = executables()
    if found is None:
        message = (
            "headless Chromium and chromedriver are needed (apt install chromium chromium-driver)"
        )
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message + "; REQUIRE_BROWSER is set")
        pytest.skip(message)
    try:
        import selenium  # noqa: F401
    except ImportError:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("selenium is not installed; REQUIRE_BROWSER is set")
        pytest.skip("selenium is not installed")
    return found


class Browser:
    """A Chromium page with condition-polling waits and named screenshots."""

    def __init__(self, shots: Path, arguments: tuple[str, ...] = ()) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        browser, driver = require_browser()
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--no-first-run",
            "--disable-extensions",
            *arguments,
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(driver), options=options)
        self.driver.set_page_load_timeout(WAIT_SECONDS)
        self.shots = shots

    def open(self, url: str) -> None:
        self.driver.get(url)

    def wait(self, condition: Callable[[], T | None], what: str) -> T:
        """Poll ``condition`` until it returns something truthy (at most :data:`WAIT_SECONDS`)."""
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        def probe(_: Any) -> T | None:
            try:
                return condition()
            except StaleElementReferenceException:
                return None

        try:
            return WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.05).until(probe)
        except TimeoutException:
            self.screenshot("timeout-" + re.sub(r"\W+", "-", what)[:40])
            raise AssertionError(f"waited {WAIT_SECONDS:g} s for {what}") from None

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def css(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def text(self, selector: str = "body") -> str:
        found = self.css(selector)
        return "\n".join(str(node.text) for node in found)

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        # The whole page, not just the window (Chromium's DevTools protocol can).
        import base64

        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {
            "x": 0,
            "y": 0,
            "width": size["width"],
            "height": min(size["height"], 8000),
            "scale": 1,
        }
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"screenshot: {path}")
        return path

    def element_screenshot(self, selector: str, name: str) -> Path:
        """A picture of the first element ``selector`` finds (a timeline, a table)."""
        path = self.shots / f"{name}.png"
        self.css(selector)[0].screenshot(str(path))
        print(f"screenshot: {path}")
        return path

    def console_errors(self) -> list[str]:
        return [
            str(entry["message"])
            for entry in self.driver.get_log("browser")
            if entry.get("level") == "SEVERE"
        ]

    def close(self) -> None:
        self.driver.quit()


def screenshot_dir(factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("SCREENSHOTS_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return factory.mktemp("screenshots", numbered=True)
