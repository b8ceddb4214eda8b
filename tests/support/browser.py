#!/usr/bin/python3
"""A headless Chromium driven through Selenium, for the web pages' tests.

tests/support/browser.cpp starts this script as a child of the test process.
It starts Debian's chromium through chromedriver (both from Debian 12, at
/usr/bin), listens on the Unix socket given by --socket, prints
"browser ready" and then answers one JSON command per line, one JSON answer
per line, on the one connection the test makes:

  {"cmd": "open", "url": U}             -> {"ok": true, "url": current URL}
  {"cmd": "fill", "css": S, "text": T}  clears the field S and types T
  {"cmd": "click", "css": S}            clicks S and waits for the page to load
  {"cmd": "text", "css": S}             -> {"ok": true, "text": visible text of S}
  {"cmd": "value", "css": S}            -> {"ok": true, "text": S's value property}
  {"cmd": "attribute", "css": S, "name": N} -> {"ok": true, "text": the attribute, or null}
  {"cmd": "count", "css": S}            -> {"ok": true, "count": elements matching S}
  {"cmd": "url"} / {"cmd": "source"}    -> {"ok": true, "text": ...}
  {"cmd": "keys", "keys": K}            sends K to the focused element ("\\t" moves focus,
                                        "\\n" presses Enter)
  {"cmd": "focused"}                    -> {"ok": true, "text": "name or id of the focused element"}
  {"cmd": "size", "width": W, "height": H}  resizes the window
  {"cmd": "screenshot", "path": P, "width": W}  the whole page at width W, as PNG
  {"cmd": "clear_cookies"}
  {"cmd": "script", "js": J}            -> {"ok": true, "result": what `J` returns}

A failure answers {"ok": false, "error": "..."}. Chromium runs with the
flags this machine needs (no sandbox as root, no background networking: the
network is closed) and a fresh profile in --profile.
"""

import argparse
import json
import os
import socket
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def start_chromium(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,900",
                 "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    return driver


def wait_loaded(driver):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if driver.execute_script("return document.readyState") == "complete":
            return
        time.sleep(0.02)


def answer(driver, command):
    cmd = command["cmd"]
    if cmd == "open":
        driver.get(command["url"])
        wait_loaded(driver)
        return {"url": driver.current_url}
    if cmd == "fill":
        element = driver.find_element(By.CSS_SELECTOR, command["css"])
        element.clear()
        element.send_keys(command["text"])
        return {}
    if cmd == "click":
        before = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.CSS_SELECTOR, command["css"]).click()
        # A click that submits replaces the document; wait until it has.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                before.tag_name  # raises once the old document is gone
            except Exception:
                break
            if command.get("same_page"):
                break
            time.sleep(0.02)
        wait_loaded(driver)
        return {"url": driver.current_url}
    if cmd == "text":
        return {"text": driver.find_element(By.CSS_SELECTOR, command.get("css") or "body").text}
    if cmd == "value":
        return {"text": driver.find_element(By.CSS_SELECTOR, command["css"]).get_property("value")}
    if cmd == "attribute":
        return {"text": driver.find_element(By.CSS_SELECTOR, command["css"]).get_attribute(command["name"])}
    if cmd == "count":
        return {"count": len(driver.find_elements(By.CSS_SELECTOR, command["css"]))}
    if cmd == "url":
        return {"text": driver.current_url}
    if cmd == "source":
        return {"text": driver.page_source}
    if cmd == "keys":
        driver.switch_to.active_element.send_keys(command["keys"])
        if "\n" in command["keys"]:
            time.sleep(0.1)
            wait_loaded(driver)
        return {}
    if cmd == "focused":
        element = driver.switch_to.active_element
        return {"text": element.get_attribute("name") or element.get_attribute("id") or element.tag_name}
    if cmd == "size":
        driver.set_window_size(command["width"], command["height"])
        return {}
    if cmd == "screenshot":
        width = command.get("width", 1280)
        driver.set_window_size(width, 900)
        height = driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        driver.set_window_size(width, max(400, min(int(height) + 140, 6000)))
        driver.save_screenshot(command["path"])
        return {}
    if cmd == "script":
        return {"result": driver.execute_script(command["js"])}
    if cmd == "clear_cookies":
        driver.delete_all_cookies()
        return {}
    raise ValueError("unknown command " + cmd)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--profile", required=True)
    args = parser.parse_args()
    driver = start_chromium(args.profile)
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(args.socket)
        server.listen(1)
        print("browser ready", flush=True)
        connection, _ = server.accept()
        stream = connection.makefile("rwb")
        for line in stream:
            try:
                result = answer(driver, json.loads(line))
                result["ok"] = True
            except Exception as error:  # reported to the test, which fails
                result = {"ok": False, "error": type(error).__name__ + ": " + str(error).strip()}
            stream.write((json.dumps(result) + "\n").encode())
            stream.flush()
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
