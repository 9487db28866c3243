"""Headless Chromium for browser tests: Debian's chromium + chromium-driver, installed with apt if missing.

The install takes a lock so parallel test processes run apt once. Selenium drives the browser through
Debian's chromedriver (same version as the browser); nothing is downloaded besides the Debian packages.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
LOCK = Path(tempfile.gettempdir()) / "domainlm-chromium-apt.lock"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900"]


def _installed() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


def ensure_chromium() -> None:
    """Install chromium and chromium-driver from Debian unless present; skips the test when that fails."""
    if _installed():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get (as root) is not available to install it")
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing it right now
        try:
            if _installed():
                return
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for command in (["apt-get", "update", "-qq"],
                            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "chromium-driver"]):
                result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
                if result.returncode != 0:
                    pytest.skip(f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def headless_chromium() -> Iterator["object"]:
    """A Selenium WebDriver on headless Chromium with a fresh profile; quits the browser on exit."""
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="domainlm-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
