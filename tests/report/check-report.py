#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The HTML report in a real browser (docs/report.md#how-it-is-tested).

Renders the real verdicts in tests/report/data/ with ./lpsentinel report and
loads each page in headless Chromium (Debian's chromium and chromium-driver,
through python3-selenium), at a 1280 px wide window:
  - the browser logs no error and no warning (a CSP violation is one);
  - the page makes no network request: the only resource loaded is the page;
  - nothing is wider than the window (document scrollWidth <= 1280);
  - every plot's screenshot is not blank: more than a few distinct colours,
    and no one colour covers nearly all of it (python3-pil).
Screenshots (each plot, and the whole page) go to build/report/screens/.
usage: check-report.py [LPSENTINEL]
"""
import json
import os
import shutil
import subprocess
import sys
import time

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "report", "data")
OUT = os.path.join(ROOT, "build", "report", "screens")
WIDTH = 1280

# name: (lpsentinel report arguments, plots at least, text the page must show)
PAGES = {
    "kept": (["gate-kept.json"], 3, "kept"),
    "reverted": (["gate-reverted.json"], 3, "reverted"),
    "stalled": (["gate-stalled.json"], 2, "stalled"),
    "audit": (["--audit", "audit.jsonl"], 1, "Audit trail"),
    # the reverted verdict with hostile, overlong names (written by hostile())
    "hostile": ([os.path.join(OUT, "hostile.json")], 3, "<script>alert(1)</script>"),
}

# A function name as long as the reader takes, markup in it and in the reason:
# shown as text, and the page still 1280 px wide.
EVIL = "<script>alert(1)</script>" + "x" * 480


def hostile():
    d = json.load(open(os.path.join(DATA, "gate-reverted.json")))
    d["functions"][0]["function"] = EVIL
    d["reason"] = "<img src=x onerror=alert(2)> " + "y" * 900
    d["timeline"]["looks"][0]["function"] = EVIL
    with open(os.path.join(OUT, "hostile.json"), "w") as f:
        json.dump(d, f)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def render(lps, name, args):
    out = os.path.join(OUT, name + ".html")
    # From the data directory: the page names its files as given, not this tree's path.
    argv = [lps, "report"] + args + ["-o", out, "--title", "lpsentinel report: " + name]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=DATA)
    if r.returncode != 0:
        fail("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return out


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=%d,1000" % WIDTH, "--hide-scrollbars",
              "--force-device-scale-factor=1", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-default-apps", "--disable-sync", "--lang=en-US"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or
                                            "/usr/bin/chromedriver"), options=o)


def blank(png):
    """Why the image is blank, or None: too few colours, or one covering 98 %."""
    im = Image.open(png).convert("RGB")
    colours = im.getcolors(maxcolors=1 << 20) or []
    total = im.size[0] * im.size[1]
    if len(colours) < 4:
        return "%d colours" % len(colours)
    top = max(c for c, _ in colours)
    if top > 0.98 * total:
        return "one colour covers %.1f %%" % (100.0 * top / total)
    return None


def check(d, name, path, min_plots, text):
    url = "file://" + path
    d.get(url)
    time.sleep(0.3)
    logs = [e for e in d.get_log("browser") if e["level"] in ("WARNING", "SEVERE")]
    if logs:
        fail("%s: the browser logged: %s" % (name, logs))
    requests = []
    for e in d.get_log("performance"):
        m = json.loads(e["message"])["message"]
        if m["method"] == "Network.requestWillBeSent":
            requests.append(m["params"]["request"]["url"])
    others = [u for u in requests if u != url]
    if others:
        fail("%s: the page requested %s" % (name, others))
    if text not in d.find_element(By.TAG_NAME, "body").text:
        fail("%s: the page does not say %r" % (name, text))
    if d.find_elements(By.CSS_SELECTOR, "script, img, iframe, object, embed, link"):
        fail("%s: the page has an element that loads something" % name)
    sw = d.execute_script("return document.documentElement.scrollWidth")
    if sw > WIDTH:
        fail("%s: the page is %d px wide at a %d px window" % (name, sw, WIDTH))
    plots = d.find_elements(By.CSS_SELECTOR, "svg.plot")
    if len(plots) < min_plots:
        fail("%s: %d plots, want at least %d" % (name, len(plots), min_plots))
    for i, p in enumerate(plots):
        d.execute_script("arguments[0].scrollIntoView()", p)
        png = os.path.join(OUT, "%s-plot%d.png" % (name, i))
        p.screenshot(png)
        why = blank(png)
        if why:
            fail("%s: plot %d (%s) is blank: %s" % (name, i, p.get_attribute("aria-label"), why))
    h = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(WIDTH, min(h + 140, 16000))
    d.execute_script("window.scrollTo(0, 0)")
    page = os.path.join(OUT, name + ".png")
    d.save_screenshot(page)
    d.set_window_size(WIDTH, 1000)
    print("ok: %s: %d plots, %d px wide, %d px high, no console message, "
          "no request; %s" % (name, len(plots), sw, h, os.path.relpath(page, ROOT)))


def main():
    lps = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "lpsentinel"))
    os.makedirs(OUT, exist_ok=True)
    hostile()
    t0 = time.time()
    d = browser()
    try:
        for name, (args, plots, text) in PAGES.items():
            check(d, name, render(lps, name, args), plots, text)
    finally:
        d.quit()
    print("report-test: %d pages in %.1f s" % (len(PAGES), time.time() - t0))


if __name__ == "__main__":
    main()
