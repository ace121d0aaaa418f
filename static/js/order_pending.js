// While a payment is being confirmed, look at the order again every few seconds and show
// it as soon as it is confirmed (or failed); without JavaScript the page's link does it.
(function () {
  "use strict";
  if (!document.getElementById("order-pending")) return;
  var tries = 0;
  function check() {
    tries += 1;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (html.indexOf('id="order-pending"') === -1) {
          window.location.reload();
        } else if (tries < 60) {
          window.setTimeout(check, 3000);
        }
      })
      .catch(function () {
        if (tries < 60) window.setTimeout(check, 3000);
      });
  }
  window.setTimeout(check, 3000);
})();
