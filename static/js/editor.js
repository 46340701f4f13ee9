/* Post editor in the admin: debounced live preview, 30-second autosave, a warning before
   leaving with unsaved changes, and copy buttons for share links and image snippets.
   Loaded as an external file, so the admin's CSP (script-src 'self') allows it. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, form, fields) {
    var data = new FormData();
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(form) }
    }).then(function (response) {
      return response.json().then(function (json) { json.status = response.status; return json; });
    });
  }

  function setupPreview(form) {
    var editor = document.getElementById("md-editor");
    var body = document.getElementById("id_body");
    var pane = document.getElementById("post-preview");
    if (!editor || !body || !pane) { return; }
    var url = editor.getAttribute("data-preview-url");
    var timer = null;
    var lastSent = null;
    function refresh() {
      if (body.value === lastSent) { return; }
      lastSent = body.value;
      pane.setAttribute("aria-busy", "true");
      post(url, form, { body: body.value }).then(function (json) {
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
    lastSent = body.value;
  }

  function setupAutosave(form) {
    var config = document.getElementById("authoring-config");
    if (!config) { return; }
    var url = config.getAttribute("data-autosave-url");
    var status = document.getElementById("autosave-status");
    var dirty = false;
    var submitting = false;
    var changedSinceAutosave = false;
    form.addEventListener("input", function () { dirty = true; changedSinceAutosave = true; });
    form.addEventListener("change", function () { dirty = true; changedSinceAutosave = true; });
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !submitting) {
        event.preventDefault();
        event.returnValue = config.getAttribute("data-unsaved-message");
      }
    });
    if (!url) { return; }
    window.setInterval(function () {
      if (!changedSinceAutosave) { return; }
      var title = document.getElementById("id_title");
      var body = document.getElementById("id_body");
      if (!body) { return; }
      changedSinceAutosave = false;
      post(url, form, { title: title ? title.value : "", body: body.value }).then(function (json) {
        if (json.saved_at && status) {
          status.textContent = config.getAttribute("data-autosaved-message") + " " +
            new Date(json.saved_at).toLocaleTimeString(document.documentElement.lang || undefined);
        } else { changedSinceAutosave = true; }
      }).catch(function () { changedSinceAutosave = true; });
    }, 30000);
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

  function setupMediaInsert() {
    var body = document.getElementById("id_body");
    if (!body) { return; }
    document.querySelectorAll("button.insert-snippet[data-snippet]").forEach(function (button) {
      button.addEventListener("click", function () {
        var snippet = button.getAttribute("data-snippet");
        var start = body.selectionStart || 0;
        var end = body.selectionEnd || start;
        body.value = body.value.slice(0, start) + snippet + body.value.slice(end);
        body.selectionStart = body.selectionEnd = start + snippet.length;
        body.focus();
        body.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("post_form");
    if (form) {
      setupPreview(form);
      setupAutosave(form);
    }
    setupCopyButtons();
    setupMediaInsert();
  });
})();
