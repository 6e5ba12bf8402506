"""The page in a real browser: headless Chromium (Debian's package) driven by Playwright, the real core.

Without Chromium or Playwright these tests skip with a message saying how to install them; under
CI=true they fail instead. Screenshots of the desktop and mobile layouts go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.web import document_view
from bot.core import Core
from tests.fakes.web_harness import Stack, running

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("RESBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
HOW_TO_INSTALL = ("install Debian's chromium (`apt-get install -y chromium`, which `make test` does as root) "
                  "and Playwright (`pip install -e '.[test]'`)")
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 740}
HIGHLIGHT = "rgb(255, 241, 168)"  # --mark in page.css
WAIT_MS = 20_000  # generous: the suite runs four workers on two cores

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, naming what is missing and how to install it."""
    message = f"browser tests need {reason}: {HOW_TO_INSTALL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the module."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium at {CHROMIUM}")
    manager = await async_playwright().start()
    try:
        chromium = await manager.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            await chromium.close()
    finally:
        await manager.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(core: Core) -> AsyncIterator[Stack]:
    """The app with the real core; loopback is exempt from the rate limit through config."""
    async with running(core=core, env={}, document=document_view(core), ask_rate_limit_loopback=False) as stack:
        yield stack


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh desktop page; console errors and dialogs are recorded on it."""
    context = await browser.new_context(viewport=DESKTOP)
    tab = await context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.errors = []
    tab.dialogs = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))

    async def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        await dialog.dismiss()

    tab.on("dialog", on_dialog)
    try:
        yield tab
    finally:
        await context.close()


def shot(name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name


async def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, wait for the new answer (or error) and return it."""
    before = await page.locator("#log .msg.bot, #log .msg.error").count()
    await page.fill("#question", question)
    await page.press("#question", "Enter")
    answer = page.locator("#log .msg.bot, #log .msg.error").nth(before)
    await answer.wait_for()
    return answer


async def in_viewport(page: Any, element_id: str) -> bool:
    """True when the element's top lies within the visible window."""
    return bool(await page.evaluate(
        """id => { const r = document.getElementById(id).getBoundingClientRect();
                   return r.top >= 0 && r.top < window.innerHeight && r.bottom > 0; }""", element_id))


async def background(page: Any, element_id: str) -> str:
    return str(await page.evaluate("id => getComputedStyle(document.getElementById(id)).backgroundColor",
                                   element_id))


async def highlighted(page: Any, element_id: str) -> bool:
    """Wait (bounded) until the element shows the highlight colour, after its fade-in."""
    await page.wait_for_function("([id, colour]) => getComputedStyle(document.getElementById(id)).backgroundColor"
                                 " === colour", arg=[element_id, HIGHLIGHT], polling=100)
    return True


async def test_world_day_is_30_july_and_the_op5_link_shows_the_paragraph(page: Any, site: Stack) -> None:
    await page.goto(site.server.url + "/")
    answer = await ask(page, "when is World Day?")
    assert "30 July" in await answer.inner_text()
    link = answer.locator('a[href="#OP5"]')
    assert await link.count() >= 1
    assert not await in_viewport(page, "OP5")
    await link.first.click()
    await page.wait_for_function("document.getElementById('OP5').classList.contains('flash')")
    assert await in_viewport(page, "OP5")
    assert await page.evaluate("document.getElementById('OP5').matches(':target')")
    assert await highlighted(page, "OP5")
    assert await page.evaluate("document.activeElement.id") == "OP5"
    assert page.url.endswith("/#OP5")
    await page.screenshot(path=shot("desktop.png"))
    assert page.errors == []  # no CSP violation, no script error


async def test_a_follow_up_in_the_same_page(page: Any, site: Stack) -> None:
    bodies: list[dict[str, Any]] = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/api/ask") else None)
    await page.goto(site.server.url + "/")
    first = await ask(page, "who coordinates ICAT?")
    assert "United Nations Office on Drugs and Crime" in await first.inner_text()
    more = await ask(page, "more")
    assert "More paragraphs on “who coordinates ICAT?”" in await more.inner_text()
    assert await more.locator("a.cite").count() >= 1
    assert bodies[0]["conversation"] is None and isinstance(bodies[1]["conversation"], str)


async def test_deep_link_to_a_sub_item(page: Any, site: Stack) -> None:
    await page.goto(site.server.url + "/#PP8(c)")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'PP8(c)'")
    assert await in_viewport(page, "PP8(c)")
    assert await highlighted(page, "PP8(c)")
    assert "(c) To promote comprehensive, coordinated" in await page.locator('[id="PP8(c)"]').inner_text()
    assert await background(page, "PP8(b)") != HIGHLIGHT


async def test_deep_link_with_a_question(page: Any, site: Stack) -> None:
    await page.goto(site.server.url + "/?q=when+is+World+Day%3F")
    answer = page.locator("#log .msg.bot").first
    await answer.wait_for()
    assert "30 July" in await answer.inner_text()
    assert await page.locator("#log .msg.you").first.inner_text() == "when is World Day?"


async def test_keyboard_only(page: Any, site: Stack) -> None:
    await page.goto(site.server.url + "/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to the question box"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "question"
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    await page.keyboard.type("when is World Day?")
    await page.keyboard.press("Enter")
    await page.locator("#log .msg.bot").first.wait_for()
    assert await page.evaluate("document.activeElement.id") == "question"  # ready for the next question
    await page.keyboard.press("Shift+Tab")  # back into the conversation: the answer's "Not helpful"
    assert await page.evaluate("document.activeElement.textContent") == "Not helpful"
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    await page.keyboard.press("Shift+Tab")  # then the last citation link
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#OP5"
    await page.keyboard.press("Enter")
    await page.wait_for_function("document.activeElement.id === 'OP5'")
    assert await in_viewport(page, "OP5")
    await page.keyboard.press("Tab")  # the paragraph's own link, then its tools, which show on focus
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#OP5"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Ask about this"
    assert await page.evaluate("getComputedStyle(document.activeElement.parentElement).opacity") == "1"
    await page.keyboard.press("/")
    assert await page.evaluate("document.activeElement.id") == "question"


async def test_not_helpful_lands_in_the_log_once(browser: Any, core: Core, tmp_path: Path) -> None:
    path = tmp_path / "unanswered.jsonl"
    off_topic = "what is the boiling point of water?"
    async with running(core=core, env={}, document=document_view(core), ask_rate_limit_loopback=False,
                       unanswered={"enabled": True, "path": str(path)}) as stack:
        context = await browser.new_context(viewport=DESKTOP)
        try:
            tab = await context.new_page()
            tab.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            tab.on("pageerror", lambda e: errors.append(str(e)))
            marks: list[Any] = []
            tab.on("request", lambda r: marks.append(json.loads(r.post_data))
                   if r.url.endswith("/api/feedback") else None)
            await tab.goto(stack.server.url + "/")
            unanswered = await ask(tab, off_topic)
            button = unanswered.get_by_role("button", name=f"Not helpful: the answer to “{off_topic}”")
            await button.click()
            await unanswered.get_by_text("Thanks — noted").wait_for()
            assert await button.is_disabled()
            await button.click(force=True)  # a disabled button: a second press sends nothing
            found = await ask(tab, "when is World Day?")
            await found.get_by_role("button", name="Not helpful: the answer to “when is World Day?”").focus()
            await tab.keyboard.press("Enter")  # the keyboard presses it too
            await found.get_by_text("Thanks — noted").wait_for()
            assert await found.locator(".feedback button").is_disabled()
            await tab.keyboard.press("Enter")  # focus is on the confirmation now: nothing more is sent
            await tab.locator("#chat").screenshot(path=shot("not-helpful.png"))
            assert marks == [{"question": off_topic, "helpful": False},
                             {"question": "when is World Day?", "helpful": False}]
            assert errors == []  # no CSP violation, no script error
        finally:
            await context.close()
    assert [(e["event"], e["channel"], e["question"]) for e in entries(path)] == [
        ("not_found", "web", off_topic),  # logged when asked; the mark does not log it twice
        ("unhelpful", "web", "when is World Day?")]


def entries(path: Path) -> list[dict[str, Any]]:
    """Every line of the unanswered-question log, parsed."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_markup_in_a_question_is_shown_as_text(page: Any, site: Stack) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    await page.goto(site.server.url + "/")
    await page.evaluate("window.__ran = false")
    await ask(page, hostile)
    await ask(page, '<script>window.__ran = true</script><b onmouseover="alert(2)">bold</b>')
    assert await page.locator("#log .msg.you").first.text_content() == hostile
    assert await page.locator("#log img, #log script, #log b").count() == 0
    assert page.dialogs == []
    assert await page.evaluate("window.__ran") is False


async def test_ask_about_a_paragraph_and_copy_its_link(page: Any, site: Stack) -> None:
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.goto(site.server.url + "/")
    await page.locator("#OP12").hover()
    await page.get_by_role("button", name="Ask about OP12").click()
    answer = page.locator("#log .msg.bot").first
    await answer.wait_for()
    assert await answer.locator('a[href="#OP12"]').count() >= 1
    await page.locator("#FN11").hover()
    await page.get_by_role("button", name="Copy a link to FN11").click()
    await page.wait_for_function("document.getElementById('status').textContent.includes('copied')")
    assert await page.evaluate("navigator.clipboard.readText()") == site.server.url + "/#FN11"


async def test_mobile_layout_is_one_column_with_the_chat_first(browser: Any, site: Stack) -> None:
    context = await browser.new_context(viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        tab = await context.new_page()
        tab.set_default_timeout(WAIT_MS)
        await tab.goto(site.server.url + "/")
        chat = await tab.locator("#chat").bounding_box()
        doc = await tab.locator("#resolution").bounding_box()
        assert chat is not None and doc is not None
        assert chat["y"] < doc["y"] and abs(chat["x"] - doc["x"]) < 1  # stacked, the chat first
        assert chat["width"] <= MOBILE["width"] and doc["width"] <= MOBILE["width"]
        assert await tab.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]  # no sideways scroll
        assert await tab.evaluate("getComputedStyle(document.querySelector('.tools')).opacity") == "1"  # touch
        await ask(tab, "who coordinates ICAT?")
        await tab.screenshot(path=shot("mobile.png"))
        await tab.locator("#log a.cite").first.click()
        await tab.wait_for_function("location.hash.length > 1")
        target = await tab.evaluate("location.hash.slice(1)")
        assert await in_viewport(tab, target)
    finally:
        await context.close()


async def test_without_javascript_the_document_is_there(browser: Any, site: Stack) -> None:
    # Reduced motion: no fade-in, so the check does not wait on animation frames of a page without script.
    context = await browser.new_context(viewport=DESKTOP, java_script_enabled=False, reduced_motion="reduce")
    try:
        tab = await context.new_page()
        await tab.goto(site.server.url + "/#OP5")
        assert "Further recalls its decision to designate 30 July" in await tab.locator("#OP5").inner_text()
        assert await tab.locator("#FN11").is_visible()
        assert await in_viewport(tab, "OP5")
        assert await highlighted(tab, "OP5")  # CSS :target, no script
        assert not await tab.locator("#ask").is_visible()  # the form needs the script
        assert "The chat needs JavaScript" in await tab.locator("noscript").inner_text()
        assert await tab.locator(".tools").count() == 0
    finally:
        await context.close()


CONTRAST = """
() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bg = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const seen = new Set(), out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    const style = getComputedStyle(el);
    if (style.opacity === '0' || el.closest('.skips')) continue;
    const a = lum(rgb(style.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const key = el.tagName + '.' + el.className + ':' + style.color + '/' + bg(el).join(',');
    if (!seen.has(key)) { seen.add(key); out.push([key, Math.round(ratio * 100) / 100]); }
  }
  return out;
}
"""


async def test_text_meets_wcag_aa_contrast(page: Any, site: Stack) -> None:
    await page.goto(site.server.url + "/#OP5")
    await ask(page, "when is World Day?")
    await ask(page, "\u200b")  # an error message too (a question with nothing in it)
    pairs = await page.evaluate(CONTRAST)
    assert len(pairs) >= 10  # the check saw the page's kinds of text
    low = [(key, ratio) for key, ratio in pairs if ratio < 4.5]
    assert low == []
