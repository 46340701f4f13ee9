// sectorblog: click-to-load embeds (posts/embeds.py). Nothing is requested from the provider
// until the reader presses the button; the frame is then sandboxed. Without JavaScript the
// card stays a link to the original.
(function () {
  "use strict";
  var content = document.querySelector(".e-content[data-embed-load]");
  if (!content) {
    return;
  }
  content.querySelectorAll("figure.embed[data-embed-src]").forEach(function (card) {
    var button = card.querySelector("button.embed-load");
    var provider = button.textContent;
    button.textContent = content.dataset.embedLoad.replace("{provider}", provider);
    button.hidden = false;
    button.addEventListener("click", function () {
      var frame = document.createElement("iframe");
      frame.src = card.dataset.embedSrc;
      frame.title = card.dataset.embedTitle || provider;
      frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-presentation");
      frame.setAttribute("allow", "fullscreen; picture-in-picture");
      frame.setAttribute("referrerpolicy", "strict-origin");
      frame.className = "embed-frame";
      var picture = card.querySelector("img");
      if (picture) {
        picture.remove();
      }
      button.replaceWith(frame);
      frame.focus();
    });
  });
})();
