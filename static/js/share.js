// sectorblog: the post page's copy-link button. Without JavaScript the button stays hidden and
// the share links above it still work.
(function () {
  "use strict";
  function copyWithSelection(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.appendChild(field);
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(field);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyWithSelection(text); });
    }
    return copyWithSelection(text);
  }
  document.querySelectorAll("button.copy-link[data-url]").forEach(function (button) {
    var status = button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button.dataset.url).then(
        function () { if (status) { status.textContent = button.dataset.done; } },
        function () { if (status) { status.textContent = button.dataset.failed + " " + button.dataset.url; } }
      );
    });
  });
})();
