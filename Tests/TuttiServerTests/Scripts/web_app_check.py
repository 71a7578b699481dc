#!/usr/bin/env python3
"""Drives Tutti's web page in Debian's headless Chromium (WebDriver, chromium-driver) the way a
person would — keyboard on a volume slider, the "Move to" menu, the party-mode button — and
checks the server's state through the JSON-RPC API (HTTP POST /jsonrpc) after each step.

    web_app_check.py HTTP_PORT ARTIFACT_DIR

Prints one line per step; exits 1 with the reason on the first failure, or on any console
error the page logged. Saves desktop- and phone-width screenshots (and a dark one) into ARTIFACT_DIR.
"""
import json
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

PORT = int(sys.argv[1])
ARTIFACTS = sys.argv[2]
BASE = f"http://127.0.0.1:{PORT}"


def rpc(method, params=None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}).encode()
    request = urllib.request.Request(f"{BASE}/jsonrpc", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.load(response)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def status():
    return rpc("Server.GetStatus")["server"]


def clients(server):
    return [client for group in server["groups"] for client in group["clients"]]


def name(client):
    return client["config"]["name"] or client["host"]["name"] or client["id"]


def group_of(server, speaker):
    return next(group for group in server["groups"] if any(c["id"] == speaker for c in group["clients"]))


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def wait_for(what, condition, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if condition():
                return
        except Exception:  # the page or the API is mid-change; look again
            pass
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


options = webdriver.ChromeOptions()
# A fake microphone (a beep) that the page may use without asking.
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
errors = []
try:
    driver.get(f"{BASE}/")
    server = status()
    wait_for("the page to show every group", lambda: len(driver.find_elements(By.CSS_SELECTOR, "article.group")) == len(server["groups"]))
    shown = driver.find_element(By.ID, "groups").text
    for client in clients(server):
        if name(client) not in shown:
            fail(f"speaker {name(client)} is not shown: {shown!r}")
    print(f"shows {len(server['groups'])} groups and {len(clients(server))} speakers", flush=True)

    # Bluetooth: no speaker host with Bluetooth here, and the section says what would help.
    wait_for("the Bluetooth section to say why it is empty",
             lambda: "tutti speaker --bluetooth" in driver.find_element(By.ID, "bluetooth").text)
    print("the Bluetooth section names the missing host", flush=True)

    # The capability table: each speaker's host says what it plays to and that it manages no Bluetooth.
    def host_row(speaker_id):
        rows = driver.find_elements(By.CSS_SELECTOR, f'#hosts tr[data-speaker="{speaker_id}"]')
        return rows[0].text if rows else ""
    wait_for("the hosts table to show kitchen's capabilities", lambda: "not managed" in host_row("kitchen"))
    print(f"kitchen's host: {host_row('kitchen')!r}", flush=True)

    # A volume, with the keyboard on the speaker's slider.
    before = next(c for c in clients(status()) if c["id"] == "kitchen")["config"]["volume"]["percent"]
    for _ in range(10):
        # Found again each time: the page redraws after every change it makes.
        driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Volume of kitchen"]').send_keys(Keys.ARROW_LEFT)
        time.sleep(0.05)
    wait_for("kitchen's volume to drop by 10", lambda: next(c for c in clients(status()) if c["id"] == "kitchen")["config"]["volume"]["percent"] == before - 10)
    print(f"kitchen volume {before} -> {before - 10} through the slider", flush=True)

    # Move the patio into the kitchen's group with its "Move to" menu.
    kitchen_group = group_of(status(), "kitchen")
    menu = Select(driver.find_element(By.CSS_SELECTOR, 'select[aria-label="Move patio to"]'))
    menu.select_by_value(kitchen_group["id"])
    wait_for("the patio to join the kitchen's group", lambda: group_of(status(), "patio")["id"] == kitchen_group["id"])
    wait_for("the page to show the patio in the kitchen's group", lambda: "patio" in driver.find_element(
        By.CSS_SELECTOR, f'article[data-group="{kitchen_group["id"]}"]').text)
    print("patio moved into the kitchen's group through the menu", flush=True)
    driver.save_screenshot(f"{ARTIFACTS}/desktop.png")

    # A menu passed over with the arrow keys changes nothing until Enter.
    living_group = group_of(status(), "living")
    stream_menu = driver.find_element(By.CSS_SELECTOR, f'select[aria-label="Stream of living"]')
    stream_menu.send_keys(Keys.ARROW_DOWN)
    time.sleep(0.5)
    if group_of(status(), "living")["stream_id"] != living_group["stream_id"]:
        fail("an arrow key on a closed menu changed the stream")
    driver.find_element(By.CSS_SELECTOR, f'select[aria-label="Stream of living"]').send_keys(Keys.ENTER)
    wait_for("Enter to choose the stream", lambda: group_of(status(), "living")["stream_id"] != living_group["stream_id"])
    print("the stream menu acts on Enter, not on arrow keys", flush=True)

    # Party mode on, then off.
    driver.find_element(By.CSS_SELECTOR, "#party button").click()
    wait_for("party mode on", lambda: status()["party"]["on"] is True)
    wait_for("the page to show one group", lambda: len(driver.find_elements(By.CSS_SELECTOR, "article.group")) == 1)
    wait_for("the button to say on", lambda: driver.find_element(By.CSS_SELECTOR, "#party button").get_attribute("aria-pressed") == "true")
    driver.save_screenshot(f"{ARTIFACTS}/desktop-party.png")
    driver.find_element(By.CSS_SELECTOR, "#party button").click()
    wait_for("party mode off", lambda: status()["party"]["on"] is False)
    wait_for("the groups to come back", lambda: len(driver.find_elements(By.CSS_SELECTOR, "article.group")) == len(status()["groups"]) > 1)
    print("party mode on and off through the page", flush=True)

    # A sentence, as a person types it.
    box = driver.find_element(By.ID, "say-input")
    box.send_keys("mute the living room", Keys.ENTER)
    wait_for("the living room to be muted", lambda: next(c for c in clients(status()) if c["id"] == "living")["config"]["volume"]["muted"] is True)
    print("a sentence typed into the page muted the living room", flush=True)

    # Calibration with the device's microphone: the run goes through, and since the speakers
    # here play to nothing, the page says that none was heard rather than making delays up.
    def click_calibrate():
        try:
            driver.find_element(By.ID, "calibrate").click()  # found again: the page redraws
            return True
        except StaleElementReferenceException:
            return False
    wait_for("the calibrate button to take a click", click_calibrate)
    wait_for("the calibration results", lambda: driver.find_elements(By.CSS_SELECTOR, "#calibration-results tbody tr"), seconds=60)
    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#calibration-results tbody tr")]
    if not all("not heard" in row and " ms" not in row for row in rows):
        fail(f"calibration with a silent room should hear nobody: {rows!r}")
    print(f"calibration through the page's microphone: {len(driver.find_elements(By.CSS_SELECTOR, '#calibration-results tbody tr'))} speakers, none heard", flush=True)

    driver.set_window_size(390, 1400)
    time.sleep(0.5)
    driver.save_screenshot(f"{ARTIFACTS}/phone.png")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        fail(f"the page is {overflow} px wider than a phone's screen")
    # The dark theme follows the system's.
    driver.set_window_size(1280, 1400)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    time.sleep(0.3)
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    if background in ("rgb(246, 245, 242)", "rgb(255, 255, 255)"):
        fail(f"the page stays light when the system is dark: {background}")
    driver.save_screenshot(f"{ARTIFACTS}/desktop-dark.png")
    errors = console_errors(driver)
finally:
    errors = errors or console_errors(driver)
    driver.quit()
if errors:
    fail(f"console errors: {errors}")
print("OK", flush=True)
