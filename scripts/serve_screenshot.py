#!/usr/bin/env python3
"""docs/serve.png: the page of `siamtrack serve` in headless Chromium, on a generated clip.

Two targets are drawn with the mouse on the first frame, the clip plays to ``--frame`` and is
paused there, and the window is captured. Needs chromium and chromium-driver (Debian) and
selenium.

    python scripts/serve_screenshot.py [--frame 40] [--out docs/serve.png]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains

from tracker import load_tracker
from tracker.serve import Session, SessionConfig
from tracker.serve.app import create_app, running
from tracker.video.demo import generate_targets_clip


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not get there")
        time.sleep(0.05)
    return value


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frame", type=int, default=40, help="pause the clip here")
    p.add_argument("--out", default="docs/serve.png")
    args = p.parse_args()

    clip = generate_targets_clip(num_targets=2, num_frames=90, width=640, height=360, seed=5)
    folder = Path(tempfile.mkdtemp())
    video = folder / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 360))
    for frame in clip.frames:
        writer.write(frame)
    writer.release()

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=700,790", "--hide-scrollbars",
                 f"--user-data-dir={folder / 'chromium'}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    session = Session(str(video), load_tracker(), SessionConfig(paused=True, speed=0.5))
    try:
        with running(create_app([session])) as url:
            browser.get(url + "/")
            section = wait_for(lambda: browser.find_elements("css selector", "section.source"))[0]
            wait_for(lambda: section.get_attribute("data-pictures"))
            canvas = browser.find_element("css selector", "canvas")
            scale = canvas.rect["width"] / 640
            for x, y, w, h in clip.boxes[:, 0]:
                ActionChains(browser).move_to_element_with_offset(canvas, round((x - 320) * scale), round((y - 180) * scale)) \
                    .click_and_hold().move_by_offset(round(w * scale), round(h * scale)).release().perform()
            wait_for(lambda: section.get_attribute("data-targets") == "0,1")
            browser.find_element("xpath", "//button[text()='Resume']").click()
            wait_for(lambda: session.latest.frame >= args.frame)
            browser.find_element("xpath", "//button[text()='Pause']").click()
            wait_for(lambda: section.get_attribute("data-state") == "paused")
            version = session.latest.version
            shown = lambda: int(section.get_attribute("data-frame") or 0) == session.latest.frame  # noqa: E731
            wait_for(lambda: shown() and session.latest.version == version)
            time.sleep(0.5)  # the table and the picture painted
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(args.out)
    finally:
        browser.quit()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
