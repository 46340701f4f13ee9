// sectorblog: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
})();
