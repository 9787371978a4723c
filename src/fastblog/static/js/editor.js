// The post form, with JavaScript: a picture dropped on or pasted into the content is uploaded
// (POST /posts/pictures, with the form's CSRF token and the session cookie) and its Markdown
// line is inserted where the cursor is. Without JavaScript the form's "Upload picture" button
// does the same on the server. No inline script and no eval: the page's CSP allows this file.
"use strict";

(function () {
  const form = document.querySelector("form[data-picture-upload]");
  const content = form && form.querySelector("textarea[name=content]");
  if (!content) {
    return;
  }
  const endpoint = form.getAttribute("data-picture-upload");
  const status = form.querySelector(".picture-status");
  const altInput = form.querySelector("input[name=picture_alt]");
  const missingAlt =
    "Warning: the picture has no description. Write what it shows between the [ ] of its " +
    "line, for readers who cannot see it.";

  function say(message) {
    if (status) {
      status.hidden = false;
      status.textContent = message;
    }
  }

  function markdownImage(alt, url) {
    return "![" + alt.replace(/[\\[\]]/g, "\\$&") + "](" + url + ")";
  }

  function insert(text) {
    const start = content.selectionStart;
    const before = content.value.slice(0, start);
    const after = content.value.slice(content.selectionEnd);
    const lead = before === "" || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    const block = lead + text + "\n\n";
    content.value = before + block + after;
    const cursor = before.length + block.length;
    content.setSelectionRange(cursor, cursor);
    content.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function upload(file) {
    const alt = altInput ? altInput.value.trim() : "";
    const body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("file", file, file.name || "pasted-picture");
    body.append("alt", alt);
    say("Uploading " + (file.name || "the picture") + "…");
    let response;
    try {
      response = await fetch(endpoint, { method: "POST", body: body, credentials: "same-origin" });
    } catch (error) {
      say("The picture could not be sent: check your connection and try again.");
      return;
    }
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = {};
    }
    if (!response.ok) {
      say(answer.detail || "The picture could not be uploaded (" + response.status + ").");
      return;
    }
    insert(markdownImage(alt, answer.url));
    if (altInput) {
      altInput.value = "";
    }
    say(alt ? "The picture is added." : "The picture is added. " + missingAlt);
  }

  function pictures(transfer) {
    return Array.from((transfer && transfer.files) || []).filter(function (file) {
      return file.type.startsWith("image/");
    });
  }

  content.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });

  content.addEventListener("drop", function (event) {
    const files = pictures(event.dataTransfer);
    if (files.length === 0) {
      return;
    }
    event.preventDefault();
    files.reduce(function (previous, file) {
      return previous.then(function () {
        return upload(file);
      });
    }, Promise.resolve());
  });

  content.addEventListener("paste", function (event) {
    const files = pictures(event.clipboardData);
    if (files.length === 0) {
      return; // text: pasted as usual
    }
    event.preventDefault();
    upload(files[0]);
  });

  // The script is deferred: a picture dropped before this line runs is the browser's to open.
  // The mark says drop and paste are live (tests wait for it; a page could style it).
  form.setAttribute("data-picture-upload-ready", "");
})();
