"""The HTTP server end to end on a tiny random model with two LoRA adapters: the official openai client
(plain and streaming), /v1/models, admin adapter loading, catalog hot reload, and the chat page in
headless Chromium. Answers are gibberish, but the verifier still lets no wrong price through."""

from __future__ import annotations

import time

import httpx
import pytest

from domainlm.config import load_project
from domainlm.serve import create_app
from test_serve_support import (ADAPTERS, ADMIN_KEY, API_KEY, ENV, ServerThread, catalog_prices, make_serve_project,
                                prices_in, write_lora_run)

QUESTION = "How much is the Lagavulin 16 Year Old?"


@pytest.fixture(scope="module")
def shop(tmp_path_factory, tiny_tokenizer):
    return make_serve_project(tmp_path_factory.mktemp("serve") / "shop", tiny_tokenizer)


@pytest.fixture(scope="module")
def server(shop):
    with ServerThread(create_app(load_project(shop), env=ENV)) as running:
        yield running


@pytest.fixture()
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0, timeout=60)


def _assert_grounded(text: str, shop) -> None:
    allowed = catalog_prices(shop)
    wrong = [price for price in prices_in(text) if price not in allowed]
    assert not wrong, f"prices not in the catalog reached the user: {wrong} in {text!r}"


def test_models_lists_base_and_both_adapters(client, server):
    ids = [model.id for model in client.models.list().data]
    assert ids[0] == server.service.base_id == "tiny-model"
    assert set(ADAPTERS) <= set(ids)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_openai_client_plain_completion(client, shop, adapter):
    response = client.chat.completions.create(
        model=adapter, messages=[{"role": "user", "content": QUESTION}], max_tokens=16, temperature=0, seed=1)
    assert response.object == "chat.completion" and response.model == adapter
    assert response.choices[0].finish_reason in ("stop", "length")
    assert response.usage.completion_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    info = response.model_extra["domainlm"]
    assert "S-0001" in info["retrieved_ids"] and info["adapter"] == adapter
    assert info["catalog_version"]
    _assert_grounded(response.choices[0].message.content, shop)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_openai_client_streaming(client, shop, adapter):
    stream = client.chat.completions.create(
        model=adapter, messages=[{"role": "user", "content": QUESTION}], max_tokens=16, stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].model_extra["domainlm"]["adapter"] == adapter
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    _assert_grounded(text, shop)


def test_adapters_and_base_answer_differently(client):
    answers = {model: client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello"}],
                                                     max_tokens=12).choices[0].message.content
               for model in ("tiny-model", *ADAPTERS)}
    assert len(set(answers.values())) >= 2, answers


def test_unknown_model_is_404_listing_the_available_ones(client):
    import openai

    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    message = caught.value.body["message"]
    assert all(name in message for name in ("tiny-model", *ADAPTERS))


def test_admin_loads_a_new_adapter_without_restart(server, shop, tiny_tokenizer, client):
    run = write_lora_run(shop, shop / "tiny-model", tiny_tokenizer, "product-expert", seed=7, run_id="new-run")
    denied = httpx.post(server.url + "/admin/adapters", json={"name": "fresh", "run": "runs/new-run"},
                        headers={"Authorization": f"Bearer {API_KEY}"})
    assert denied.status_code == 401
    loaded = httpx.post(server.url + "/admin/adapters", json={"name": "fresh", "run": str(run)},
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60)
    assert loaded.status_code == 200, loaded.text
    assert "fresh" in [m.id for m in client.models.list().data]
    answer = client.chat.completions.create(model="fresh", messages=[{"role": "user", "content": QUESTION}],
                                            max_tokens=8)
    assert answer.model_extra["domainlm"]["adapter"] == "fresh"


def test_price_change_shows_within_5_seconds_without_restart(client, server, shop):
    ask = dict(model=ADAPTERS[0], messages=[{"role": "user", "content": QUESTION}], max_tokens=8)
    before = client.chat.completions.create(**ask).model_extra["domainlm"]
    old = {p["id"]: p["price"] for p in before["products"]}
    assert old["S-0001"] == pytest.approx(89.99)
    cached = client.chat.completions.create(**ask).model_extra["domainlm"]
    assert cached["cache_hit"] is True  # the same question is cached ...

    catalog = shop / "catalog.csv"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("89.99", "79.49"), encoding="utf-8")
    changed_at = time.monotonic()
    try:
        while True:
            info = client.chat.completions.create(**ask).model_extra["domainlm"]
            prices = {p["id"]: p["price"] for p in info["products"]}
            if prices.get("S-0001") == pytest.approx(79.49):
                break
            assert time.monotonic() - changed_at < 5, f"still the old price after 5 s: {prices}"
            time.sleep(0.2)
        assert info["catalog_version"] != before["catalog_version"]
        assert info["cache_hit"] is False  # ... but never across a catalog change
        assert time.monotonic() - changed_at < 5
    finally:
        catalog.write_text(catalog.read_text(encoding="utf-8").replace("79.49", "89.99"), encoding="utf-8")


def test_chat_page_streams_an_answer_in_headless_chromium(server, shop):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from support.chromium import headless_chromium

    with headless_chromium() as browser:
        browser.get(server.url + "/")
        wait = WebDriverWait(browser, 60)
        browser.find_element(By.ID, "key").send_keys(API_KEY, Keys.TAB)  # the page then lists the models
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#model option")) >= 3)
        Select(browser.find_element(By.ID, "model")).select_by_value(ADAPTERS[1])
        browser.find_element(By.ID, "input").send_keys(QUESTION)
        browser.find_element(By.ID, "send").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-done='true'], .msg.error"))
        assert not browser.find_elements(By.CSS_SELECTOR, ".msg.error"), browser.find_element(By.ID, "log").text
        answer = browser.find_element(By.CSS_SELECTOR, ".msg.assistant .content").text
        products = browser.find_element(By.ID, "products").text
        assert "S-0001" in products and "89.99" in products
        assert browser.find_element(By.ID, "verifier").text  # the verifier's marks (or "none")
        _assert_grounded(answer, shop)
