"""Pictures in a real browser, without JavaScript: "Add a picture" on the post form uploads the
file and adds its Markdown line, the text kept; the published post shows it as a figure the
browser actually loads (the CSP lets it), with its caption."""

import re
import time
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import SQLITE_ONLY
from tests.browser.test_accounts import flash, header, sign_up

pytestmark = [pytest.mark.browser, SQLITE_ONLY]


def photo_file(folder: Path) -> Path:
    image = Image.new("RGB", (1400, 900), "teal")
    image.paste("orange", (700, 0, 1400, 900))
    buffer = BytesIO()
    image.save(buffer, "JPEG")
    path = folder / "harbour.jpg"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("browser_context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_upload_through_the_form_without_javascript_and_see_the_figure(
    page: Page, tmp_path: Path
) -> None:
    sign_up(page)
    title = f"A harbour {uuid.uuid4().hex[:8]}"
    header(page).get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Content").fill("We sailed at dawn.")

    page.get_by_label("Picture", exact=True).set_input_files(photo_file(tmp_path))
    page.get_by_label("Describe the picture (alt text)").fill("Two boats in the harbour")
    page.get_by_role("button", name="Upload picture").click()

    content = page.get_by_label("Content")
    expect(content).to_have_value(
        re.compile(r"^We sailed at dawn\.\n\n!\[Two boats in the harbour\]\(/media/pictures/")
    )
    expect(page.get_by_label("Title")).to_have_value(title)  # the text is kept
    expect(page.locator("#picture-notice")).to_contain_text("The picture is added")
    # A caption: the title part of the Markdown image.
    content.fill(content.input_value().rstrip().removesuffix(")") + ' "At dawn")\n')
    page.get_by_role("button", name="Publish").click()

    expect(flash(page)).to_have_text("Your post is published.")
    figure = page.locator(".prose figure")
    expect(figure.locator("figcaption")).to_have_text("At dawn")
    image = figure.locator("img")
    expect(image).to_have_attribute("alt", "Two boats in the harbour")
    expect(image).to_have_attribute("srcset", re.compile(r"\.webp 480w, .*\.webp 960w"))
    # Loaded and decoded by the browser: the page's CSP allowed it.
    # Polled from here: wait_for_function's requestAnimationFrame polling can stall in a
    # context with JavaScript off (it timed out once in CI with the picture on screen).
    deadline = time.monotonic() + 30
    while not image.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the picture never loaded"
        time.sleep(0.1)
    assert image.evaluate("img => img.currentSrc").endswith(".webp")


# A picture made in the page (a canvas) and handed to the editor as a drop or a paste would.
GIVE_PICTURE = """async ([kind, name]) => {
  const canvas = document.createElement("canvas");
  canvas.width = 640; canvas.height = 400;
  const context = canvas.getContext("2d");
  context.fillStyle = "teal"; context.fillRect(0, 0, 640, 400);
  const blob = await new Promise(resolve => canvas.toBlob(resolve, "image/png"));
  const transfer = new DataTransfer();
  transfer.items.add(new File([blob], name, {type: "image/png"}));
  const content = document.querySelector("textarea[name=content]");
  content.focus();
  content.setSelectionRange(content.value.length, content.value.length);
  const event = kind === "drop"
    ? new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true})
    : new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true});
  content.dispatchEvent(event);
}"""


def test_with_javascript_a_dropped_or_pasted_picture_is_uploaded_into_the_text(
    page: Page,
) -> None:
    sign_up(page)
    header(page).get_by_role("link", name="New post").click()
    content = page.get_by_label("Content")
    content.fill("Before the pictures.")

    page.get_by_label("Describe the picture (alt text)").fill("A teal square")
    # The editor's script is deferred: on a busy machine the textarea is there before it runs
    # (a drop then went to the browser, not to the upload, and the test failed in CI).
    page.locator("form[data-picture-upload-ready]").wait_for(state="attached")
    page.evaluate(GIVE_PICTURE, ["drop", "dropped.png"])
    expect(content).to_have_value(
        re.compile(r"^Before the pictures\.\n\n!\[A teal square\]\(/media/pictures/\w+\.png\)\n")
    )
    status = page.locator(".picture-status")
    expect(status).to_have_text("The picture is added.")

    page.evaluate(GIVE_PICTURE, ["paste", "pasted.png"])  # no alt text this time
    expect(status).to_contain_text("Warning: the picture has no description")
    expect(content).to_have_value(re.compile(r"\n\n!\[\]\(/media/pictures/\w+\.png\)\n"))
