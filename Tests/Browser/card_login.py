#!/usr/bin/env python3
"""Drives Debian's headless Chromium through the gateway's card login, as a citizen with a card would.

The card (PKCS#12) goes into a fresh NSS database under a temporary HOME; a profile content setting
selects it for the card listener without a prompt (../shared/docs/BROWSER.md). The script opens each
page, keeps a screenshot, and prints one JSON object with what it saw. With --consent-url it also
clicks the consent button and reports where the browser went.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def nss_database(home, p12, password):
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    subprocess.run(["certutil", "-d", "sql:" + db, "-N", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["pk12util", "-d", "sql:" + db, "-i", p12, "-W", password], check=True, capture_output=True)


def profile(directory, card_origin):
    os.makedirs(os.path.join(directory, "Default"))
    rule = {card_origin + ",*": {"setting": {"filters": [{}]}}}
    preferences = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": rule}}}}
    with open(os.path.join(directory, "Default", "Preferences"), "w") as f:
        json.dump(preferences, f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--p12", help="the card, PKCS#12")
    parser.add_argument("--password", default="cnsgw-test")
    parser.add_argument("--card-origin", required=True, help="https://host:port of the card listener")
    parser.add_argument("--out", required=True, help="folder for the screenshots")
    parser.add_argument("--lang", default="it-IT,it")
    parser.add_argument("--consent-url", help="a /login/card?login=ID address: open it, screenshot, click approve")
    parser.add_argument("--consent-name", default="consent")
    parser.add_argument("--reload-and-switch", action="store_true",
                        help="on the consent page, reload it and follow the language switch before approving")
    parser.add_argument("--until", help="after approving, wait until the address starts with this (default: leaves the card listener)")
    parser.add_argument("--page", action="append", default=[], help="NAME=URL to open and screenshot")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="cnsgw-browser-")
    home = os.path.join(work, "home")
    os.makedirs(home)
    if args.p12:
        nss_database(home, args.p12, args.password)
    user_data = os.path.join(work, "profile")
    profile(user_data, args.card_origin)
    os.makedirs(args.out, exist_ok=True)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/lib/chromium/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                 "--window-size=1280,1000", "--user-data-dir=" + user_data, "--accept-lang=" + args.lang]:
        options.add_argument(flag)
    service = Service("/usr/bin/chromedriver", env={**os.environ, "HOME": home}, popen_kw={"start_new_session": True})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    seen = {"pages": {}}
    try:
        for item in args.page:
            name, url = item.split("=", 1)
            driver.get(url)
            driver.save_screenshot(os.path.join(args.out, name + ".png"))
            seen["pages"][name] = {"url": driver.current_url, "text": driver.find_element(By.TAG_NAME, "body").text,
                                   "lang": driver.find_element(By.TAG_NAME, "html").get_attribute("lang")}
        if args.consent_url:
            driver.get(args.consent_url)
            driver.save_screenshot(os.path.join(args.out, args.consent_name + ".png"))
            seen["consent"] = {"url": driver.current_url, "text": driver.find_element(By.TAG_NAME, "body").text}
            if args.reload_and_switch:
                driver.refresh()   # F5 with the same card: the consent page again
                seen["reloaded"] = {"url": driver.current_url, "text": driver.find_element(By.TAG_NAME, "body").text}
                driver.find_element(By.CSS_SELECTOR, "header a[hreflang]").click()
                WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") != "it")
                seen["switched"] = {"url": driver.current_url, "text": driver.find_element(By.TAG_NAME, "body").text}
                driver.save_screenshot(os.path.join(args.out, args.consent_name + "-switched.png"))
            driver.find_element(By.CSS_SELECTOR, 'button[value="approve"]').click()
            if args.until:
                WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(args.until))
            else:
                WebDriverWait(driver, 20).until(lambda d: not d.current_url.startswith(args.card_origin))
            seen["after_consent"] = {"url": driver.current_url}
    finally:
        driver.quit()
        try:
            os.killpg(service.process.pid, signal.SIGKILL)
        except Exception:
            pass
        shutil.rmtree(work, ignore_errors=True)
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
