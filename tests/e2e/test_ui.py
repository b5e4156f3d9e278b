"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a real `keel serve`: sign in,
chat in the playground, see the trace, open it, give feedback, add it to a dataset, move a prompt label, run
two experiments and compare them; and the bad paths: wrong key, a viewer who tries to edit, invalid form
values, another project's objects, a revoked key. Screenshots of the main pages are taken at 1280 px and on
a phone-sized screen (copied to docs/screenshots when KEEL_TEST_SCREENSHOTS=1)."""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.local.runtime import installed
from tests.e2e.conftest import Server, start_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make dev does)"
    ),
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("ui") / "data", KEEL_LOCAL_THREADS="1", KEEL_AUTH_CACHE_SECONDS="1"
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    key = (server.data_dir / "admin.key").read_text().strip()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def sign_in(browser: Any, server: Server, key: str, width: int = 1280) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{server.url}/")
    assert "/login" in page.url
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    return page


def shot(page: Any, name: str, tmp: Path) -> None:
    path = tmp / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if os.environ.get("KEEL_TEST_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def test_the_main_journey(browser: Any, server: Server, api: httpx.Client, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/traces")
    page.fill("#key", "keel_not_a_real_key")
    page.click("button[type=submit]")
    assert "That key does not work: invalid API key" in page.inner_text("[role=alert]")
    page.close()

    page = sign_in(browser, server, key)
    page.goto(f"{server.url}/playground")
    page.fill("#user", "What is the capital of France? Answer in one word.")
    page.select_option("#t-left", "local/smollm2-135m-instruct")
    page.click("button[name=send]")
    page.wait_for_function("document.querySelector('[data-testid=answer-left]').textContent.length > 0")
    page.wait_for_function("document.querySelector('.column .meta').textContent.includes('tokens')")
    assert "Paris" in page.inner_text("[data-testid=answer-left]")
    shot(page, "playground", tmp_path)
    page.fill("#system", "Answer in one word.")
    page.fill("#prompt_name", "capital")
    page.click("button[name=save]")
    assert "Saved as version 1" in page.inner_text("[role=status]")
    saved = api.get("/api/v1/prompts/capital").json()
    assert saved["messages"][0] == {"role": "system", "content": "Answer in one word."}
    assert saved["model"] == "local/smollm2-135m-instruct"

    page.goto(f"{server.url}/traces")
    row = page.locator("#trace-rows a").first
    row.wait_for()
    assert "local/smollm2-135m-instruct" in page.inner_text("#trace-rows") or "smollm2" in page.inner_text(
        "#trace-rows"
    )
    shot(page, "traces", tmp_path)
    row.click()
    page.wait_for_selector("ul.spans")
    assert "capital of France" in page.inner_text("ul.spans")
    page.fill("#fb-comment", "correct and short")
    page.click("text=Give feedback")
    assert page.inner_text("[role=status]") == "Feedback saved"
    assert "correct and short" in page.inner_text("main")
    page.fill("#ds-name", "from-ui")
    page.click("button:has-text('Add')")
    assert "Added to dataset from-ui" in page.inner_text("[role=status]")
    shot(page, "trace", tmp_path)
    items = api.get("/api/v1/datasets/from-ui/items").json()["items"]
    assert len(items) == 1
    assert items[0]["source_trace_id"]

    for text in ("Answer: {{ q }}", "Answer briefly: {{ q }}"):
        body = {
            "name": "qa",
            "messages": [{"role": "user", "content": text}],
            "model": "local/smollm2-135m-instruct",
        }
        api.post("/api/v1/prompts", json=body).raise_for_status()
    api.put("/api/v1/prompts/qa/labels/production", json={"version": 2}).raise_for_status()
    page.goto(f"{server.url}/prompts/qa")
    assert "production → v2" in page.inner_text("[data-testid=label-production]")
    assert "Answer briefly" in page.inner_text("pre.diff")
    page.select_option("#version", "1")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Move label")
    assert "Moved production to version 1" in page.inner_text("[role=status]")
    assert "production → v1" in page.inner_text("[data-testid=label-production]")
    assert api.get("/api/v1/prompts/qa@production").json()["version"] == 1
    shot(page, "prompt", tmp_path)

    items = [
        {"input": {"q": "What is 2 + 2?"}, "expected": "4"},
        {"input": {"q": "What colour is the sky on a clear day?"}, "expected": "blue"},
    ]
    api.post("/api/v1/datasets", json={"name": "quiz", "items": items}).raise_for_status()
    ids = []
    for target in ("prompt:qa@1", "prompt:qa@2"):
        page.goto(f"{server.url}/datasets/quiz")
        page.select_option("#target", target)
        page.fill("#max_tokens", "16")
        page.click("text=Run experiment")
        page.wait_for_selector("[data-testid=experiment-status]:has-text('succeeded')", timeout=120_000)
        ids.append(page.url.rsplit("/", 1)[1])
    assert "contains" in page.inner_text("main")
    shot(page, "experiment", tmp_path)
    page.goto(f"{server.url}/experiments")
    for experiment_id in ids:
        page.check(f"input[value={experiment_id}]")
    page.click("text=Compare selected")
    page.wait_for_selector("[data-testid=verdict-contains]")
    assert page.inner_text("[data-testid=verdict-contains]") in ("better", "worse", "no difference")
    shot(page, "compare", tmp_path)

    page.goto(f"{server.url}/?range=1h")
    assert int(page.inner_text("[data-testid=requests]")) >= 5  # the chat and four experiment calls
    assert page.locator("figure.chart svg").count() == 4
    shot(page, "overview", tmp_path)
    route = {
        "name": "chat",
        "targets": [
            {"provider": "local", "model": "smollm2-135m-instruct", "weight": 1, "variant": "stable"},
            {"provider": "models", "model": "tuned@challenger", "weight": 0, "variant": "canary"},
        ],
    }
    api.post("/api/v1/routes", json=route).raise_for_status()
    page.goto(f"{server.url}/gateway")
    page.fill("#w-chat-0", "0.9")
    page.fill("#w-chat-1", "0.1")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Save split")
    assert "Route chat updated" in page.inner_text("[role=status]")
    weights = [t["weight"] for t in api.get("/api/v1/routes/chat").json()["targets"]]
    assert weights == [0.9, 0.1]
    shot(page, "gateway", tmp_path)
    page.fill("#c-chat", "models/tuned@v2")
    page.fill("#m-chat", "500")
    page.click("text=Start canary")
    assert "Canary started" in page.inner_text("[role=status]")
    assert page.locator("ol.steps li.current").inner_text() == "5%"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Pause')")
    assert "Canary pause done" in page.inner_text("[role=status]")
    assert api.get("/api/v1/routes/chat/canary").json()["state"] == "paused"
    shot(page, "canary", tmp_path)
    for path in ("/models", "/finetunes", "/knowledge", "/datasets", "/loops"):
        page.goto(f"{server.url}{path}")
        assert page.locator("h1").count() == 1
    shot(page, "datasets", tmp_path)
    narrow = sign_in(browser, server, key, width=390)
    narrow.goto(f"{server.url}/?range=1h")
    assert narrow.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(narrow, "overview-narrow", tmp_path)


def test_roles_projects_bad_values_and_revoked_keys(browser: Any, server: Server, api: httpx.Client) -> None:
    project = api.get("/api/v1/whoami").json()["project_id"]
    viewer = api.post("/api/v1/keys", json={"name": "v", "role": "viewer", "project_id": project}).json()
    body = {"name": "secret-prompt", "messages": [{"role": "user", "content": "x"}]}
    other = api.post("/api/v1/projects", json={"name": "other-team"}).json()["id"]
    other_key = api.post("/api/v1/keys", json={"name": "o", "role": "admin", "project_id": other}).json()[
        "key"
    ]
    httpx.post(f"{server.url}/api/v1/prompts", json=body, headers={"Authorization": f"Bearer {other_key}"})
    api.post("/api/v1/prompts", json={"name": "mine", "messages": [{"role": "user", "content": "y"}]})

    page = sign_in(browser, server, viewer["key"])
    page.goto(f"{server.url}/prompts/mine")
    assert page.locator("text=Move label").count() == 0  # a viewer sees no edit form
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    forged = page.request.post(
        f"{server.url}/prompts/mine/labels",
        form={"csrf": csrf, "label": "production", "version": "1"},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "needs the member role" in forged.text()
    assert "Traceback" not in forged.text()

    page.goto(f"{server.url}/prompts/secret-prompt")
    assert page.inner_text("h1") == "Not found"
    assert "prompt 'secret-prompt' not found" in page.inner_text("[role=alert]")

    admin = sign_in(browser, server, (server.data_dir / "admin.key").read_text().strip())
    traces = api.get("/api/v1/traces").json()["items"]
    trace_id = traces[0]["trace_id"] if traces else "0" * 32
    admin.goto(f"{server.url}/traces/{trace_id}")
    if traces:
        admin.fill("#fb-value", "not a number")
        admin.click("text=Give feedback")
        assert "value must be a number; got 'not a number'" in admin.inner_text("[role=alert]")
    admin.goto(f"{server.url}/traces?min_latency_ms=-5")
    assert "invalid filter" in admin.inner_text("[role=alert]")
    no_csrf = admin.request.post(f"{server.url}/prompts/mine/labels", form={"label": "x", "version": "1"})
    assert no_csrf.status == 403
    assert "reload the page" in no_csrf.text()

    api.delete(f"/api/v1/keys/{viewer['id']}").raise_for_status()
    time.sleep(
        1.1
    )  # the server trusts a key for KEEL_AUTH_CACHE_SECONDS (1 s here) after a revocation elsewhere
    page.goto(f"{server.url}/prompts")
    assert "/login" in page.url
    assert "revoked" in page.inner_text("[role=alert]")
