"""The chat page in a real headless browser: Debian's chromium and chromium-driver, driven by
Selenium against a real `essaybot web` process on 127.0.0.1 (#14). Nothing downloads a browser:
the driver is named by path, and Chromium runs with its background networking off."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.builder import build_index
from index.embedders import create_embedder
from tests.paths import CORPUS, ROOT

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver;"
    " .ci/run installs them)",
)
SCREENSHOT = ROOT / "docs" / "web-chat.png"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `essaybot web` over the bundled corpus (hash embedder), its base URL."""
    work = tmp_path_factory.mktemp("web")
    build_index(CORPUS, work / "index", create_embedder("hash"), progress=False)
    port = free_port()
    env = {**os.environ, "ESSAYBOT_STATE_PATH": str(work / "state.db"), "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "bot",
        "web",
        "--index",
        str(work / "index"),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--window-size=900,1100", "--lang=en-US",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=DriverService(executable_path=DRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def ask(browser, question: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(browser.find_elements(By.CSS_SELECTOR, "#log article"))
    box = browser.find_element(By.ID, "question")
    box.send_keys(question, Keys.ENTER)
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#log article")) > before)
    wait(browser, lambda b: len(last_turn(b).find_elements(By.CSS_SELECTOR, "p, section")) > 1)


def last_turn(browser):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, "#log article")[-1]


def wait(browser, condition) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(condition)


def test_a_reader_asks_in_english_and_chinese_and_opens_the_sources(site, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(site)
    wait(browser, lambda b: b.find_element(By.ID, "send").text == "Ask")
    ask(browser, "Good CFOs are very good at numbers")
    turn = last_turn(browser)
    assert "Good CFOs are very good at numbers" in turn.find_element(By.TAG_NAME, "blockquote").text
    assert "Why CFOs may not be good CEOs" in turn.find_element(By.CLASS_NAME, "citation").text
    turn.find_element(By.TAG_NAME, "button").click()
    wait(browser, lambda b: last_turn(b).find_elements(By.CLASS_NAME, "sources"))
    ask(browser, "钉钉 ONE 的教训是什么")
    assert last_turn(browser).find_elements(By.TAG_NAME, "blockquote")
    ask(browser, "qwzx vbnm plokij")
    assert "The essays don't cover that." in last_turn(browser).text
    ask(browser, "Why might a good CFO not make a good CEO?")
    screenshot(browser, tmp_path)


def screenshot(browser, tmp_path: Path) -> None:
    """The page answering, as a PNG; copied to docs/ (the README shows it) when
    ESSAYBOT_UPDATE_SCREENSHOT is set."""
    shot = tmp_path / "web-chat.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("ESSAYBOT_UPDATE_SCREENSHOT"):
        shutil.copy(shot, SCREENSHOT)


def test_markup_in_a_question_is_shown_as_text_and_runs_nothing(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site)
    wait(browser, lambda b: b.find_element(By.ID, "send").text == "Ask")
    nasty = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    ask(browser, nasty)
    assert last_turn(browser).find_element(By.CLASS_NAME, "question").text == nasty
    assert browser.execute_script("return window.pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#log img, #log script")


def test_the_page_requests_nothing_outside_its_own_origin(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site)
    wait(browser, lambda b: b.find_element(By.ID, "send").text == "Ask")
    ask(browser, "What does Tencent gain from OpenClaw?")
    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert names and all(name.startswith(site) for name in names), names


def test_the_page_switches_to_chinese(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site)
    wait(browser, lambda b: b.find_element(By.ID, "lang-button").text == "中文")
    browser.find_element(By.ID, "lang-button").click()
    wait(browser, lambda b: b.find_element(By.ID, "send").text == "提问")
    assert browser.find_element(By.ID, "question-label").get_attribute("textContent")
