"""Drives the web admin page in headless Chromium (Debian's chromium + chromium-driver, Selenium from PyPI):
signs in, checks the token stays in sessionStorage, types an invalid then a valid cron (the parser's message,
then the next fire times, as you type), adds a schedule, finds it in the table, creates an instance from the
form generated from the config schema, sees runs listed, creates a token (shown once) and finds all of it in the
audit view — with no Content-Security-Policy violation logged (the page allows no inline script or style).
Exit 0 = all good; any failure raises.

usage: admin_page.py BASE_URL TOKEN
"""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

base, token = sys.argv[1], sys.argv[2]
options = Options()
options.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]:
    options.add_argument(a)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)
main = lambda: driver.execute_script("return document.getElementById('main').innerText")
try:
    driver.get(base + "/")
    wait.until(lambda d: d.find_elements(By.ID, "tok"))
    driver.find_element(By.ID, "tok").send_keys(token)
    driver.find_element(By.ID, "go").click()
    wait.until(lambda d: "guanke" in main() and "loaded" in main())
    assert driver.execute_script("return sessionStorage.getItem('token')") == token
    assert driver.execute_script("return localStorage.length") == 0

    # Schedules: the cron field answers as you type; a new schedule lands in the table.
    driver.find_element(By.CSS_SELECTOR, 'header a[data-view="schedules"]').click()
    wait.until(lambda d: d.find_elements(By.ID, "sadd"))
    Select(driver.find_element(By.ID, "si")).select_by_value("g")
    Select(driver.find_element(By.ID, "sj")).select_by_visible_text("grade_stats")
    cron = driver.find_element(By.ID, "sc")
    cron.send_keys("*/0 * * * *")
    wait.until(lambda d: "step must be at least 1" in d.find_element(By.ID, "spreview").text)
    for _ in range(len("*/0 * * * *")):
        cron.send_keys("\b")
    cron.send_keys("*/20 9-18 * * 1-5")
    wait.until(lambda d: d.find_element(By.ID, "spreview").text.startswith("next: "))
    zone = driver.find_element(By.ID, "sz")
    zone.clear()
    zone.send_keys("Asia/Shanghai")
    driver.find_element(By.ID, "sp").send_keys('{"dates": "T-1"}')
    driver.find_element(By.ID, "sn").send_keys("工作日分级统计")
    driver.find_element(By.ID, "sadd").click()
    # Checked inside the page: the table is re-rendered, so element handles may go stale between calls.
    wait.until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('input.cron[data-id]')].some(e => e.value === '*/20 9-18 * * 1-5')"))
    assert "工作日分级统计" in main(), "the schedule's name is shown"
    # An invalid cron through the form is refused with the parser's message.
    driver.find_element(By.ID, "sc").send_keys("61 * * * *")
    driver.find_element(By.ID, "sadd").click()
    wait.until(lambda d: d.find_elements(By.ID, "serror"))
    assert "minute" in driver.find_element(By.ID, "serror").text

    # Instances: the form comes from the plugin's config schema.
    driver.find_element(By.CSS_SELECTOR, 'header a[data-view="instances"]').click()
    wait.until(lambda d: d.find_elements(By.ID, "create"))
    driver.find_element(By.ID, "nid").send_keys("node2")
    Select(driver.find_element(By.ID, "nplugin")).select_by_visible_text("vos")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#nform input[data-key="base_url"]'))
    driver.find_element(By.CSS_SELECTOR, '#nform input[data-key="base_url"]').send_keys("http://127.0.0.1:9")
    driver.find_element(By.CSS_SELECTOR, '#nform input[data-key="backfill_days"]').send_keys("0")
    driver.find_element(By.ID, "create").click()
    wait.until(lambda d: "node2" in main() and "create" in d.page_source)

    # Runs: listed, refreshing.
    driver.find_element(By.CSS_SELECTOR, 'header a[data-view="runs"]').click()
    wait.until(lambda d: "node2" in main() and "customers" in main())

    # Tokens: created in the page and shown once; the audit view lists what this page changed.
    driver.find_element(By.CSS_SELECTOR, 'header a[data-view="tokens"]').click()
    wait.until(lambda d: d.find_elements(By.ID, "tgo"))
    driver.find_element(By.ID, "tn").send_keys("grafana")
    Select(driver.find_element(By.ID, "tr")).select_by_visible_text("viewer")
    driver.find_element(By.ID, "tgo").click()
    wait.until(lambda d: "sht_" in d.find_element(By.ID, "tmsg").text)
    driver.find_element(By.CSS_SELECTOR, 'header a[data-view="audit"]').click()
    wait.until(lambda d: all(a in main() for a in ["token.create", "schedule.create", "instance.create"]))

    violations = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not violations, violations
    print("ok")
finally:
    driver.quit()
