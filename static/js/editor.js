/* The desk's post editor, with no build step: a Markdown toolbar with keyboard shortcuts, a
   debounced live preview, word count and reading time, autosave state and a 30-second autosave,
   a warning before leaving with unsaved changes, the media dialog (upload, paste or drop an
   image; alt text is asked for before the Markdown is inserted), copy buttons, and the preview
   page's width and colour toggles. Loaded as an external file, so the admin's CSP
   (script-src 'self') allows it. */
(function () {
  "use strict";

  var WORDS_PER_MINUTE = 220;  /* posts.models.WORDS_PER_MINUTE */

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(url, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().then(function (json) { json.status = response.status; return json; });
    });
  }

  function post(url, fields) {
    var data = new FormData();
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    return send(url, data);
  }

  function changed(body) { body.dispatchEvent(new Event("input", { bubbles: true })); }

  /* --- text edits ------------------------------------------------------------------------ */

  function replaceSelection(body, before, after, placeholder) {
    var start = body.selectionStart, end = body.selectionEnd;
    var selected = body.value.slice(start, end) || placeholder || "";
    body.setRangeText(before + selected + after, start, end, "end");
    body.selectionStart = start + before.length;
    body.selectionEnd = start + before.length + selected.length;
    body.focus();
    changed(body);
  }

  function prefixLines(body, prefix) {
    var start = body.value.lastIndexOf("\n", body.selectionStart - 1) + 1;
    var end = body.selectionEnd;
    var block = body.value.slice(start, end) || "";
    var lines = block.split("\n").map(function (line) { return prefix + line; }).join("\n");
    body.setRangeText(lines, start, end, "end");
    body.focus();
    changed(body);
  }

  function insertText(body, text) {
    var start = body.selectionStart, end = body.selectionEnd;
    body.setRangeText(text, start, end, "end");
    body.focus();
    changed(body);
  }

  /* An image goes in as its own paragraph, where the cursor was when the dialog opened. */
  var savedRange = null;

  function insertBlock(body, text) {
    if (savedRange) { body.setSelectionRange(savedRange[0], savedRange[1]); savedRange = null; }
    var before = body.value.slice(0, body.selectionStart);
    var after = body.value.slice(body.selectionEnd);
    var lead = !before || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    var tail = !after || /^\n\n/.test(after) ? "" : (/^\n/.test(after) ? "\n" : "\n\n");
    insertText(body, lead + text + tail);
  }

  function addFootnote(body, editor) {
    var used = body.value.match(/\[\^(\d+)\]/g) || [];
    var n = used.reduce(function (max, ref) { return Math.max(max, parseInt(ref.slice(2), 10)); }, 0) + 1;
    var at = body.selectionEnd;
    var note = "\n\n[^" + n + "]: " + editor.getAttribute("data-msg-footnote");
    body.setRangeText("[^" + n + "]", at, at, "end");
    body.value = body.value.replace(/\s*$/, "") + note;
    body.selectionStart = body.value.length - editor.getAttribute("data-msg-footnote").length;
    body.selectionEnd = body.value.length;
    body.focus();
    changed(body);
  }

  function runAction(action, body, editor) {
    switch (action) {
      case "heading": return prefixLines(body, "## ");
      case "bold": return replaceSelection(body, "**", "**", "");
      case "italic": return replaceSelection(body, "_", "_", "");
      case "link": return replaceSelection(body, "[", "](https://)", editor.getAttribute("data-msg-link-text"));
      case "quote": return prefixLines(body, "> ");
      case "list": return prefixLines(body, "- ");
      case "code": {
        var selected = body.value.slice(body.selectionStart, body.selectionEnd);
        return selected.indexOf("\n") >= 0 ? replaceSelection(body, "```\n", "\n```", "") : replaceSelection(body, "`", "`", "");
      }
      case "image": return openMediaDialog(editor, null);
      case "footnote": return addFootnote(body, editor);
    }
  }

  /* --- toolbar: buttons, arrow keys between them (one tab stop), shortcuts in the text ------ */

  function setupToolbar(editor, body) {
    var toolbar = editor.querySelector(".md-toolbar");
    if (!toolbar) { return; }
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button"));
    var shortcuts = {};
    buttons.forEach(function (button) {
      var keys = button.getAttribute("aria-keyshortcuts");
      if (keys) { shortcuts[keys.toLowerCase()] = button.getAttribute("data-action"); }
      button.addEventListener("click", function () {
        var action = button.getAttribute("data-action");
        if (action === "toggle-preview") {
          var on = button.getAttribute("aria-pressed") !== "true";
          button.setAttribute("aria-pressed", on ? "true" : "false");
          editor.classList.toggle("md-preview-off", !on);
          return;
        }
        runAction(action, body, editor);
      });
    });
    toolbar.addEventListener("keydown", function (event) {
      var index = buttons.indexOf(document.activeElement);
      if (index < 0) { return; }
      var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      next = (next + buttons.length) % buttons.length;
      buttons[index].setAttribute("tabindex", "-1");
      buttons[next].setAttribute("tabindex", "0");
      buttons[next].focus();
    });
    body.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey)) { return; }
      var keys = "control+" + (event.altKey ? "alt+" : "") + (event.shiftKey ? "shift+" : "") + event.key.toLowerCase();
      var action = shortcuts[keys];
      if (!action && event.altKey && event.code && event.code.indexOf("Key") === 0) {
        action = shortcuts["control+alt+" + event.code.slice(3).toLowerCase()];
      }
      if (action) { event.preventDefault(); runAction(action, body, editor); }
    });
  }

  /* --- live preview ------------------------------------------------------------------------ */

  function setupPreview(editor, body) {
    var pane = document.getElementById("post-preview");
    if (!pane) { return; }
    var url = editor.getAttribute("data-preview-url");
    var timer = null;
    var lastSent = body.value;
    function refresh() {
      if (body.value === lastSent) { return; }
      lastSent = body.value;
      pane.setAttribute("aria-busy", "true");
      post(url, { body: body.value }).then(function (json) {
        pane.removeAttribute("aria-busy");
        if (json.html !== undefined) {
          pane.innerHTML = json.html;  /* sanitized on the server by render_markdown() */
          pane.classList.remove("md-preview-error");
        } else {
          pane.classList.add("md-preview-error");
          lastSent = null;
        }
      }).catch(function () { pane.removeAttribute("aria-busy"); lastSent = null; });
    }
    body.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 400);
    });
  }

  /* --- words, reading time, autosave state ------------------------------------------------ */

  function setupStats(editor, body) {
    var words = document.getElementById("md-word-count");
    var minutes = document.getElementById("md-reading-time");
    if (!words || !minutes) { return; }
    function update() {
      var text = body.value.replace(/!\[[^\]]*\]\([^)]*\)/g, " ").replace(/[#>*_`~\[\]()\-]/g, " ");
      var count = (text.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) || []).length;
      words.textContent = count + " " + editor.getAttribute(count === 1 ? "data-msg-word" : "data-msg-words");
      minutes.textContent = Math.max(1, Math.ceil(count / WORDS_PER_MINUTE)) + " " + editor.getAttribute("data-msg-minute");
    }
    body.addEventListener("input", update);
    update();
  }

  function setState(editor, key, className, suffix) {
    var state = document.getElementById("autosave-state");
    if (!state) { return; }
    state.textContent = editor.getAttribute(key) + (suffix ? " " + suffix : "");
    state.className = "autosave-state" + (className ? " " + className : "");
  }

  function setupAutosave(form, editor) {
    var config = document.getElementById("authoring-config");
    if (!config) { return; }
    var url = config.getAttribute("data-autosave-url");
    var dirty = false, submitting = false, changedSinceAutosave = false;
    function touched() {
      dirty = true;
      changedSinceAutosave = true;
      if (editor) { setState(editor, "data-msg-unsaved", "is-unsaved"); }
    }
    form.addEventListener("input", touched);
    form.addEventListener("change", touched);
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !submitting) {
        event.preventDefault();
        event.returnValue = config.getAttribute("data-unsaved-message");
      }
    });
    if (!url || !editor) { return; }
    window.setInterval(function () {
      if (!changedSinceAutosave) { return; }
      var title = document.getElementById("id_title");
      var body = document.getElementById("id_body");
      changedSinceAutosave = false;
      setState(editor, "data-msg-autosaving", "");
      post(url, { title: title ? title.value : "", body: body.value }).then(function (json) {
        if (json.saved_at) {
          var when = new Date(json.saved_at).toLocaleTimeString(document.documentElement.lang || undefined);
          setState(editor, "data-msg-autosaved", "", when);
        } else { changedSinceAutosave = true; setState(editor, "data-msg-autosave-failed", "is-failed"); }
      }).catch(function () { changedSinceAutosave = true; setState(editor, "data-msg-autosave-failed", "is-failed"); });
    }, 30000);
  }

  /* --- the media dialog -------------------------------------------------------------------- */

  function showError(message) {
    var error = document.getElementById("media-error");
    if (!error) { return; }
    error.textContent = message;
    error.hidden = !message;
  }

  function chooseFile(file) {
    var input = document.getElementById("media-file");
    var thumb = document.getElementById("media-thumb");
    if (!input || !file) { return; }
    var list = new DataTransfer();
    list.items.add(file);
    input.files = list.files;
    if (thumb) {
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = "";  /* the alt text is what the author types below */
      thumb.replaceChildren(img);
      thumb.hidden = false;
    }
  }

  function openMediaDialog(editor, file) {
    var dialog = document.getElementById("media-dialog");
    if (!dialog) { return; }
    showError("");
    var body = document.getElementById("id_body");
    if (!dialog.open && body) { savedRange = [body.selectionStart, body.selectionEnd]; }
    var alt = document.getElementById("media-alt");
    if (file) { chooseFile(file); }
    if (!dialog.open) { dialog.showModal(); }
    var first = file && alt ? alt : dialog.querySelector("input, button, summary");
    if (first) { first.focus(); }
  }

  function closeMediaDialog(body) {
    var dialog = document.getElementById("media-dialog");
    if (dialog && dialog.open) { dialog.close(); }
    body.focus();
  }

  function resetDialog() {
    ["media-file", "media-alt", "media-caption"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.value = ""; }
    });
    var thumb = document.getElementById("media-thumb");
    if (thumb) { thumb.hidden = true; thumb.replaceChildren(); }
  }

  function upload(editor, body) {
    var input = document.getElementById("media-file");
    var alt = document.getElementById("media-alt");
    var button = document.getElementById("media-upload");
    if (!input.files.length) { showError(editor.getAttribute("data-msg-no-file")); input.focus(); return; }
    if (!alt.value.trim()) {
      showError(editor.getAttribute("data-msg-alt-required"));
      alt.setAttribute("aria-invalid", "true");
      alt.focus();
      return;
    }
    alt.removeAttribute("aria-invalid");
    var data = new FormData();
    data.append("image", input.files[0]);
    data.append("alt_text", alt.value);
    data.append("caption", document.getElementById("media-caption").value);
    button.disabled = true;
    showError("");
    button.setAttribute("aria-busy", "true");
    send(editor.getAttribute("data-upload-url"), data).then(function (json) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (!json.snippet) { showError(json.error || editor.getAttribute("data-msg-upload-failed")); return; }
      closeMediaDialog(body);
      resetDialog();
      insertBlock(body, json.snippet);
    }).catch(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      showError(editor.getAttribute("data-msg-upload-failed"));
    });
  }

  function imageFrom(items) {
    for (var i = 0; items && i < items.length; i++) {
      var item = items[i];
      var file = item.getAsFile ? (item.kind === "file" ? item.getAsFile() : null) : item;
      if (file && /^image\//.test(file.type)) { return file; }
    }
    return null;
  }

  function setupMediaDialog(editor, body) {
    var dialog = document.getElementById("media-dialog");
    if (!dialog) { return; }
    var uploadButton = document.getElementById("media-upload");
    if (uploadButton) { uploadButton.addEventListener("click", function () { upload(editor, body); }); }
    dialog.querySelectorAll("#media-cancel").forEach(function (button) {
      button.addEventListener("click", function () { closeMediaDialog(body); });
    });
    var fileInput = document.getElementById("media-file");
    if (fileInput) { fileInput.addEventListener("change", function () { chooseFile(fileInput.files[0]); }); }
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT" && event.target.type === "text") {
        event.preventDefault();  /* Enter uploads; it must not submit the post's form */
        upload(editor, body);
      }
    });
    if (!uploadButton) { return; }
    body.addEventListener("paste", function (event) {
      var file = imageFrom(event.clipboardData && event.clipboardData.items);
      if (file) { event.preventDefault(); openMediaDialog(editor, file); }
    });
    body.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
        body.classList.add("md-dropping");
      }
    });
    body.addEventListener("dragleave", function () { body.classList.remove("md-dropping"); });
    body.addEventListener("drop", function (event) {
      body.classList.remove("md-dropping");
      var file = imageFrom(event.dataTransfer && event.dataTransfer.files);
      if (file) { event.preventDefault(); openMediaDialog(editor, file); }
    });
  }

  function setupMediaInsert(body) {
    document.querySelectorAll("button.insert-snippet[data-snippet]").forEach(function (button) {
      button.addEventListener("click", function () {
        closeMediaDialog(body);
        insertBlock(body, button.getAttribute("data-snippet"));
      });
    });
  }

  function setupCopyButtons() {
    document.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source) { return; }
        source.select();
        if (navigator.clipboard) {
          navigator.clipboard.writeText(source.value);
        } else {
          document.execCommand("copy");
        }
      });
    });
  }

  /* --- the preview page: desktop/phone width, light/dark ----------------------------------- */

  function setupPreviewPage() {
    var bar = document.getElementById("preview-bar");
    var stage = document.getElementById("preview-stage");
    var frame = document.getElementById("preview-frame");
    if (!bar || !stage || !frame) { return; }
    function press(selector, button) {
      bar.querySelectorAll(selector).forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
    }
    bar.querySelectorAll("button[data-width]").forEach(function (button) {
      button.addEventListener("click", function () {
        stage.setAttribute("data-width", button.getAttribute("data-width"));
        press("button[data-width]", button);
      });
    });
    function scheme(name) {
      var doc = frame.contentDocument;
      if (!doc) { return; }
      doc.querySelectorAll("link[rel=stylesheet]").forEach(function (link) {
        if (/site\.css|\/preview\/(light|dark)\.css/.test(link.getAttribute("href"))) {
          link.setAttribute("href", bar.getAttribute("data-" + name + "-css"));
        }
      });
      doc.documentElement.setAttribute("data-scheme", name);
      press("button[data-scheme]", bar.querySelector("button[data-scheme=" + name + "]"));
    }
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    press("button[data-scheme]", bar.querySelector("button[data-scheme=" + (dark ? "dark" : "light") + "]"));
    bar.querySelectorAll("button[data-scheme]").forEach(function (button) {
      button.addEventListener("click", function () { scheme(button.getAttribute("data-scheme")); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("post_form");
    var editor = document.getElementById("md-editor");
    var body = document.getElementById("id_body");
    if (editor && body) {
      setupToolbar(editor, body);
      setupPreview(editor, body);
      setupStats(editor, body);
      setupMediaDialog(editor, body);
      setupMediaInsert(body);
    }
    if (form) { setupAutosave(form, editor); }
    setupCopyButtons();
    setupPreviewPage();
  });
})();
