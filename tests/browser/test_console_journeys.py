"""The design document's journeys in the console, as a person clicks through them in Chromium.

The module's stack ran `phoneunify demo`'s journeys (tests/browser/conftest.py): Maria's Instagram
DM, booking and SMS; John's SMS, the business's reply, his Facebook Messenger message with his
number and his booking. Each test signs in afresh in its own browser.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import Browser, ConsoleStack

pytestmark = pytest.mark.infra

BUSINESS = "+19165550100"
IG_ACCOUNT = "17841400000000100"


def test_the_demo_ends_with_the_console_address_and_how_to_log_in(console_stack: ConsoleStack) -> None:
    printed = console_stack.demo_output
    assert f"Admin console: {console_stack.base}/" in printed
    assert "credential 'ops' in PHONEUNIFY_API_TOKENS" in printed
    assert "`make down` stops it" in printed
    # The senders by their Graph API profiles (the simulator played the Graph API meanwhile).
    assert "Linked identities: instagram @marialopez (" in printed, printed
    assert "Linked identities: facebook John Doe (" in printed, printed


def test_search_a_phone_and_see_sms_messenger_and_booking_on_one_page(browser: Browser) -> None:
    browser.log_in()
    browser.wait_text("Signed in as")
    browser.screenshot("search-recent")

    browser.search("(916) 555-1234")
    browser.wait_text("John Doe")
    browser.screenshot("search-results")
    (result,) = browser.all("li.result")
    assert "+19165551234" in result.text
    result.find_element(By.CSS_SELECTOR, "a.name").click()

    browser.wait_text("Customer: John Doe (+19165551234)")
    page = browser.text()
    for seen in (
        "Do you do birthdays?",  # SMS in
        "Yes! We do birthday parties. How many guests?",  # SMS out
        "Hi! I asked about birthdays yesterday. My number is 916-555-1234",  # Messenger
        "BOOKING CREATED",
        "Date 2025-11-25",
        "Guests 8",
        "Total $600",
    ):
        assert seen in page, seen
    channels = {item.get_attribute("data-channel") for item in browser.all("li.item.message")}
    assert channels == {"sms", "messenger"}
    assert "booking inquiry" in page  # intent of "Do you do birthdays?"
    assert "john@example.com" in page
    identities = browser.find("#identities").text
    assert "messenger" in identities.lower() or "facebook" in identities.lower()
    browser.screenshot("customer")

    browser.click("#why-link")
    browser.wait_text("Why is this linked?")
    marks = [mark.text for mark in browser.all(".evidence mark")]
    assert "916-555-1234" in marks  # the span of the Messenger message that linked it
    browser.screenshot("why-linked")


def test_the_messenger_sender_shows_its_profile_name(browser: Browser) -> None:
    identity, message = _profiled_sender(browser, "(916) 555-1234", "John Doe", "messenger")
    assert "John Doe" in identity, identity
    assert "6100000000000001" not in identity  # the page-scoped id gave way to the name
    # The Messenger message's sender is the name too, though it arrived before the profile.
    assert "John Doe" in message, message
    browser.screenshot("customer-with-profile")


def test_the_instagram_sender_shows_its_handle(browser: Browser) -> None:
    identity, message = _profiled_sender(browser, "@marialopez", "Maria Lopez", "instagram")
    assert "@marialopez" in identity and "@marialopez" in message, (identity, message)
    browser.screenshot("customer-with-handle")


def _profiled_sender(browser: Browser, query: str, customer: str, channel: str) -> tuple[str, str]:
    """The customer's first identity row and its one message on `channel`, as shown."""
    browser.log_in()
    browser.search(query)
    browser.find("li.result a.name").click()
    browser.wait_text(f"Customer: {customer}")
    (message,) = browser.all(f'li.item.message[data-channel="{channel}"]')
    return browser.find("#identities .identity-row").text, message.text


def test_new_activity_appears_without_a_reload(browser: Browser, console_stack: ConsoleStack) -> None:
    browser.log_in()
    browser.search("916-555-0142")
    browser.find("li.result a.name").click()
    browser.wait_text("Customer: Maria Lopez")
    browser.driver.execute_script("window.stillTheSamePage = true")

    sent = console_stack.sim.ringcentral_sms(
        "700000000901",
        "+19165550142",
        BUSINESS,
        "Running 10 minutes late, so sorry!",
        at=datetime.now(UTC) - timedelta(minutes=1),
    )
    assert sent.status == 200
    browser.wait_text("Running 10 minutes late, so sorry!")
    assert browser.driver.execute_script("return window.stillTheSamePage === true")
    browser.screenshot("live-update")


def test_resolve_a_conflict_from_the_review_queue(browser: Browser, console_stack: ConsoleStack) -> None:
    """An Instagram sender linked to Ann gives, without a cue, a number Bob owns: the machine asks.
    The admin reads the evidence in the queue and merges the two, choosing the survivor."""
    sim = console_stack.sim
    early = datetime.now(UTC) - timedelta(hours=2)
    assert sim.ringcentral_sms("700000000911", "+19165554101", BUSINESS, "Ann here", at=early).status == 200
    assert sim.ringcentral_sms("700000000912", "+19165554102", BUSINESS, "Bob here", at=early).status == 200
    # In this order, each after the last is resolved: Ann and Bob, Ann's Instagram, then the number.
    console_stack.wait_for_message("+19165554101", "Ann here")
    console_stack.wait_for_message("+19165554102", "Bob here")
    dm = "my number is 916-555-4101"
    assert sim.meta_dm("instagram", IG_ACCOUNT, "ig-ann-4101", "mid.ann.1", dm, at=early).status == 200
    console_stack.wait_for_message("+19165554101", dm)
    bare = "916-555-4102"
    later = early + timedelta(minutes=5)
    assert sim.meta_dm("instagram", IG_ACCOUNT, "ig-ann-4101", "mid.ann.2", bare, at=later).status == 200

    browser.log_in()
    browser.open("/review")
    conflict_css = 'article.conflict[data-kind="identity_phone_conflict"]'
    browser.wait_for(lambda: _reload_until(browser, conflict_css), "the conflict in the review queue")
    conflict = browser.find(conflict_css)
    assert "+19165554102" in conflict.text
    assert [m.text for m in conflict.find_elements(By.CSS_SELECTOR, ".evidence mark")] == [bare]
    sides = conflict.find_elements(By.CSS_SELECTOR, ".side")
    assert len(sides) == 2 and "+19165554101" in sides[0].text and "+19165554102" in sides[1].text
    browser.screenshot("review-queue")

    conflict.find_element(By.CSS_SELECTOR, 'a[data-action="merge"]').click()
    browser.wait_text("Merge two customers")
    assert browser.find("#survivor-size").text == "3"  # Ann: her SMS and her two DMs
    assert browser.find("#merged-size").text == "1"  # Bob: his SMS
    assert browser.find("#merged-total").text == "4"
    browser.screenshot("merge-confirmation")
    browser.click('button[data-action="merge"]')
    browser.applied()
    browser.screenshot("decision-applied")

    browser.back()
    browser.wait_for(lambda: _reload_until(browser, conflict_css, present=False), "the conflict to close")
    browser.search("916-555-4102")
    browser.find("li.result a.name").click()
    browser.wait_text("Ann here")
    assert "Bob here" in browser.text()


def test_merge_then_split_restores_both_timelines(browser: Browser, console_stack: ConsoleStack) -> None:
    sim = console_stack.sim
    early = datetime.now(UTC) - timedelta(hours=3)
    assert sim.ringcentral_sms("700000000921", "+19165554201", BUSINESS, "Cara: hi", at=early).status == 200
    assert sim.ringcentral_sms("700000000922", "+19165554202", BUSINESS, "Dev: hello", at=early).status == 200
    console_stack.wait_for_message("+19165554201", "Cara: hi")
    console_stack.wait_for_message("+19165554202", "Dev: hello")

    browser.log_in()
    browser.search("916-555-4201")
    browser.find("li.result a.name").click()
    browser.wait_text("Cara: hi")
    cara_url = browser.driver.current_url

    browser.click("#merge-link")
    box = browser.find("input[name=q]#find-other, form.link-search input[name=q]")
    box.send_keys("4202")
    browser.click("#find-other")
    browser.find("a[data-merge-with]").click()
    browser.wait_text("Merge two customers")
    assert (browser.find("#survivor-size").text, browser.find("#merged-size").text) == ("1", "1")
    browser.click('button[data-action="merge"]')
    browser.applied()
    browser.back()

    browser.driver.get(cara_url)
    browser.wait_text("Dev: hello")
    assert "Cara: hi" in browser.text()
    browser.screenshot("merged")

    split = browser.find('button[data-action="split"]')
    split.click()
    browser.driver.switch_to.alert.accept()  # "Split this customer back out?"
    browser.applied()
    browser.driver.get(cara_url)
    browser.wait_for(lambda: "Dev: hello" not in _timeline(browser), "Dev's messages to leave Cara")
    assert "Cara: hi" in _timeline(browser)
    browser.screenshot("after-split")
    browser.search("916-555-4202")
    browser.find("li.result a.name").click()
    browser.wait_text("Dev: hello")
    assert "Cara: hi" not in _timeline(browser)


def _timeline(browser: Browser) -> str:
    return str(browser.find("#timeline").text)


def _reload_until(browser: Browser, css: str, present: bool = True) -> bool:
    """The review queue is not live: reload it until the item is (or is no longer) there."""
    browser.driver.refresh()
    return bool(browser.all(css)) == present


def test_link_an_unlinked_conversation_with_the_inline_search(
    browser: Browser, console_stack: ConsoleStack
) -> None:
    """A DM with no number links nobody; the admin finds Maria from the queue and links it."""
    sim = console_stack.sim
    at = datetime.now(UTC) - timedelta(minutes=30)
    dm = "Hi, it's Maria from my other account. Can we add a cake?"
    assert sim.meta_dm("instagram", IG_ACCOUNT, "17841499990000777", "mid.maria.alt", dm, at=at).status == 200

    browser.log_in()
    browser.open("/review")
    card_css = "article.unlinked"
    browser.wait_for(lambda: _reload_until(browser, card_css), "the conversation in the queue")
    card = browser.find(card_css)
    assert dm in card.text and "17841499990000777" in card.text
    browser.screenshot("unlinked-conversation")

    card.find_element(By.CSS_SELECTOR, "input[name=q]").send_keys("916-555-0142")
    card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    browser.wait_text("Link to a customer")
    browser.find("li.result")
    browser.screenshot("link-search")
    browser.click('button[data-action="link_thread"]')
    browser.applied()
    browser.back()
    browser.wait_text("Belongs to")
    browser.find("p a[href*='/customers/']").click()
    browser.wait_text("Customer: Maria Lopez")
    assert dm in _timeline(browser)


def test_log_in_csrf_and_log_out(browser: Browser, console_stack: ConsoleStack) -> None:
    browser.open("/review")
    browser.wait_for(lambda: "/console/login" in browser.driver.current_url, "the log-in form")
    browser.find("input[name=token]").send_keys("not-a-real-token-0000")
    browser.click("#login")
    browser.wait_text("That is not an admin token.")
    browser.screenshot("login-refused")

    browser.find("input[name=token]").send_keys(console_stack.token)
    browser.click("#login")
    browser.wait_text("Review queue")
    assert browser.driver.current_url.endswith("/console/review")  # back where the admin was going
    (session,) = [c for c in browser.driver.get_cookies() if c["name"] == "pu_console"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert browser.driver.execute_script("return document.cookie") == ""  # no script can read it

    # A form whose CSRF token is not the session's is refused, and nothing is sent.
    browser.search("(916) 555-1234")
    browser.find("li.result a.name").click()
    browser.wait_text("Customer: John Doe")
    browser.driver.execute_script(
        "document.querySelector('form.action button[data-action=\"mark_shared\"]')"
        ".form.querySelector('input[name=csrf]').value = 'forged'"
    )
    browser.click('button[data-action="mark_shared"]')
    browser.driver.switch_to.alert.accept()
    browser.wait_text("This form has expired")
    browser.screenshot("csrf-refused")

    browser.click("#logout")
    browser.wait_text("Admin token")
    browser.open("/")
    browser.wait_for(lambda: "/console/login" in browser.driver.current_url, "the log-in form again")


def test_edit_a_name_add_a_phone_and_see_a_refusal_explained(
    browser: Browser, console_stack: ConsoleStack
) -> None:
    """The Edit section: the admin names a customer known only by a number, gives her a second
    phone, and is told why a phone John owns cannot be given to her."""
    at = datetime.now(UTC) - timedelta(hours=4)
    sent = console_stack.sim.ringcentral_sms("700000000931", "+19165554301", BUSINESS, "Eve: hi there", at=at)
    assert sent.status == 200
    console_stack.wait_for_message("+19165554301", "Eve: hi there")

    browser.log_in()
    browser.search("916-555-4301")
    browser.find("li.result a.name").click()
    browser.wait_text("Eve: hi there")
    browser.find("#edit-details input[name=name]").send_keys("Eve Adams")
    browser.click('#edit-details button[data-action="edit_customer"]')
    browser.applied()
    browser.back()
    browser.wait_text("Customer: Eve Adams (+19165554301)")

    browser.find("#add-phone input[name=phone]").send_keys("(916) 555-4309")
    browser.click('#add-phone button[data-action="add_phone"]')
    browser.applied()
    browser.back()
    browser.wait_for(lambda: "+19165554309" in browser.find("#phones").text, "the new phone on the page")
    assert browser.find("#customer-name").text == "Eve Adams"
    browser.screenshot("edit-section")

    browser.find("#add-phone input[name=phone]").send_keys("(916) 555-1234")  # John's phone
    browser.click('#add-phone button[data-action="add_phone"]')
    browser.wait_for(
        lambda: "Refused by the resolver" in browser.find("#command-state").text, "the resolver's refusal"
    )
    state = browser.find("#command-state").text
    assert "the phone belongs to customer" in state and "merge the two customers" in state, state
    browser.screenshot("refused-decision")
    browser.back()
    assert "+19165551234" not in browser.find("#phones").text


def test_create_a_customer_from_the_console(browser: Browser) -> None:
    browser.log_in()
    browser.open("/")
    browser.click("#new-customer")
    browser.wait_text("New customer")
    browser.find("input[name=name]").send_keys("Wanda Walk-In")
    browser.find("input[name=email]").send_keys("wanda@example.com")
    browser.find("input[name=phone]").send_keys("(916) 555-4401")
    browser.screenshot("new-customer-form")
    browser.click('button[data-action="create_customer"]')
    browser.applied()
    browser.back()
    browser.wait_text("Customer: Wanda Walk-In (+19165554401)")
    assert browser.find("#customer-email").text == "wanda@example.com"
    browser.screenshot("customer-created")
