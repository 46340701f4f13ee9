// sectorblog: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";

  // Discussion: "Reply" links open a reply page without JS; with JS the one comment form
  // moves under the comment being answered, and back again on "Cancel reply".
  var form = document.getElementById("comment-form");
  var home = document.getElementById("respond");
  if (!form || !home || !form.elements.reply_to) {
    return;
  }

  // "Remember me": the name, email and website the reader chose to keep in this browser (the
  // sb_commenter cookie, comments/commenter.py) fill the empty fields. Post pages come from the
  // page cache, so the server cannot.
  var remembered = document.cookie.split("; ").filter(function (c) { return c.indexOf("sb_commenter=") === 0; })[0];
  if (remembered && form.elements.remember) {
    try {
      var data = JSON.parse(decodeURIComponent(remembered.slice("sb_commenter=".length)));
      ["name", "email", "url"].forEach(function (key) {
        var field = form.elements[key];
        if (field && !field.value && typeof data[key] === "string") {
          field.value = data[key];
        }
      });
      form.elements.remember.checked = true;
    } catch (e) {
      // A garbled cookie: the reader types as usual.
    }
  }
  var note = document.getElementById("reply-note");
  var cancel = form.querySelector(".cancel-reply");

  function reset() {
    form.elements.reply_to.value = "0";
    note.hidden = true;
    note.textContent = "";
    cancel.hidden = true;
    home.appendChild(form);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.reply-link") : null;
    if (!link) {
      return;
    }
    event.preventDefault();
    var item = link.closest("li.comment");
    var name = link.getAttribute("data-reply-name") || "";
    form.elements.reply_to.value = link.getAttribute("data-reply-to");
    note.textContent = form.dataset.replying.replace("{name}", name);
    note.hidden = false;
    cancel.hidden = false;
    item.querySelector("article").after(form);
    form.elements.comment.focus();
  });

  cancel.addEventListener("click", function (event) {
    event.preventDefault();
    reset();
    form.elements.comment.focus();
  });
})();
