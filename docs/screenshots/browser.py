"""The browser half of the screenshot script: Debian's chromium, driven by Playwright.

Runs in its own small venv (``.venv-shots``, only Playwright), so neither Airflow's venv nor the
docs' gets a browser driver. It reads a plan (JSON) of shots from ``take.py``:

    {"base_url": ..., "login": {"username": ..., "password": ...} | null,
     "shots": [{"name": ..., "caption": ..., "path": ..., "wait_text": ..., "fills": [[css, text]],
                "clicks": [...], "expect_text": ..., "full_page": false}]}

and, for each shot: opens ``base_url + path``, waits until ``wait_text`` is on the page, types
each ``fills`` text into its field, clicks each of ``clicks`` (a text, or ``css=`` and a
selector), waits for ``expect_text`` if given, and saves ``<out>/<name>.png``. A shot whose text never shows fails the
script: a screenshot of a page that is not what its caption says is worse than none.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

#: What the machine's closed network needs (no background calls to Google's hosts).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000


def locate(page: Page, target: str) -> Any:
    """A CSS selector when ``target`` starts with ``css=``, else the first element whose
    text holds ``target``."""
    if target.startswith("css="):
        return page.locator(target[4:]).first
    return page.get_by_text(target).first


def log_in(page: Page, base_url: str, login: dict[str, str]) -> None:
    """Airflow 2.11's Flask-AppBuilder form."""
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", login["username"])
    page.fill("input[name=password]", login["password"])
    page.click("form[name=login] [type=submit]")
    page.wait_for_load_state("networkidle")


def take(page: Page, base_url: str, shot: dict[str, Any], out: Path) -> None:
    page.goto(base_url + shot["path"])
    page.wait_for_load_state("networkidle")
    if shot.get("wait_text"):
        locate(page, shot["wait_text"]).wait_for(state="visible", timeout=TIMEOUT_MS)
    for selector, text in shot.get("fills", []):
        page.fill(selector, text)
    for target in shot.get("clicks", []):
        locate(page, target).click(timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
    if shot.get("expect_text"):
        locate(page, shot["expect_text"]).wait_for(state="visible", timeout=TIMEOUT_MS)
    page.evaluate("window.scrollTo(0, 0)")  # a click may have scrolled; the page's top says what it is
    page.wait_for_timeout(500)  # let the UI's own transitions settle before the picture
    page.screenshot(path=str(out / f"{shot['name']}.png"), full_page=bool(shot.get("full_page")))
    print(f"  {shot['name']}.png: {shot['caption']}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    plan = json.loads(args.plan.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.set_default_timeout(TIMEOUT_MS)
        if plan.get("login"):
            log_in(page, plan["base_url"], plan["login"])
        for shot in plan["shots"]:
            try:
                take(page, plan["base_url"], shot, args.out)
            except Exception as error:  # one failed shot should not hide the others' results
                page.screenshot(path=str(args.out / f"{shot['name']}.FAILED.png"))
                failed.append(f"{shot['name']}: {type(error).__name__}: {str(error).splitlines()[0]}")
        browser.close()
    for line in failed:
        print(f"  FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
