"""Debian's headless Chromium driven by Selenium through Debian's chromedriver (nothing is
downloaded), with the flags this closed network needs, and screenshots kept as artifacts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "console"
# Without the background-networking flags Chromium keeps reaching for Google's hosts, which this
# machine's network refuses; as root it needs --no-sandbox.
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2200",
)


@contextmanager
def headless_chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        raise RuntimeError("chromium and chromedriver are missing: make install installs them (apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield browser
    finally:
        browser.quit()


def screenshot(browser: webdriver.Chrome, name: str, element_id: str | None = None) -> Path:
    """The window, scrolled to ``element_id`` first when given."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if element_id is not None:
        browser.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path
