// Hide the delivery address while "ship to my billing address" is ticked. Without
// JavaScript the fields stay visible and the server ignores them when it is ticked.
(function () {
  var box = document.getElementById("id_same_address");
  var fields = document.getElementById("shipping-address");
  if (!box || !fields) return;
  function sync() { fields.hidden = box.checked; }
  box.addEventListener("change", sync);
  sync();
})();

// Show the guardian's fields only to a buyer who says they are under 18.
(function () {
  var fields = document.getElementById("guardian-fields");
  if (!fields) return;
  var radios = document.querySelectorAll("input[name=age]");
  function sync() {
    var minor = document.querySelector("input[name=age]:checked");
    fields.hidden = !(minor && minor.value === "minor");
  }
  radios.forEach(function (radio) { radio.addEventListener("change", sync); });
  sync();
})();

// Keep the order summary in step with the chosen shipping method and the delivery
// country. Every zone's methods, costs and totals come from the server with the page;
// without JavaScript the summary follows both after the form is sent, and a method the
// country is not offered is refused there.
(function () {
  var list = document.getElementById("shipping-options");
  var zones = document.querySelectorAll("#shipping-zones > li");
  var label = document.getElementById("summary-shipping-label");
  var cost = document.getElementById("summary-shipping");
  var total = document.getElementById("summary-total");
  var country = document.getElementById("summary-country");
  var same = document.getElementById("id_same_address");
  var radios = document.querySelectorAll("input[name=shipping_method]");
  if (!list || !label || !cost || !total || !radios.length) return;
  var zoneList = document.getElementById("shipping-zones");
  var subtotal = zoneList.dataset.subtotal;
  // The page's own words, in its language.
  var notOffered = zoneList.dataset.notOffered || "not offered";
  var notOfferedTo = zoneList.dataset.notOfferedTo || "not offered to %(country)s";
  radios.forEach(function (radio) {
    var text = document.querySelector("label[for='" + radio.id + "']");
    if (text) radio.dataset.method = text.textContent.split(" – ")[0].trim();
  });

  function destination() {
    return document.getElementById(same && !same.checked ? "id_shipping_country" : "id_billing_country");
  }

  function zoneFor(code) {
    var rest = null;
    for (var i = 0; i < zones.length; i++) {
      if (zones[i].dataset.countries.split(",").indexOf(code) !== -1) return zones[i];
      if (zones[i].dataset.rest) rest = zones[i];
    }
    return rest;
  }

  function option(method) {
    return list.querySelector("li[data-method='" + method + "']");
  }

  function syncMethod() {
    var chosen = document.querySelector("input[name=shipping_method]:checked");
    if (!chosen) return;
    var offered = option(chosen.value);
    if (offered) {
      label.textContent = offered.dataset.label;
      cost.textContent = offered.dataset.cost;
      total.textContent = offered.dataset.total;
    } else {
      label.textContent = chosen.dataset.method + " – " + notOffered;
      cost.textContent = "–";
      total.textContent = subtotal;
    }
  }

  function syncCountry() {
    var select = destination();
    if (!select || !zones.length) return;
    var name = select.options[select.selectedIndex].text;
    var zone = zoneFor(select.value);
    list.textContent = "";
    if (zone) {
      zone.querySelectorAll("span").forEach(function (span) {
        var item = document.createElement("li");
        ["method", "label", "cost", "total"].forEach(function (key) { item.dataset[key] = span.dataset[key]; });
        list.appendChild(item);
      });
    }
    if (country) country.textContent = name;
    radios.forEach(function (radio) {
      var text = document.querySelector("label[for='" + radio.id + "']");
      var offered = option(radio.value);
      if (!text) return;
      text.textContent = radio.dataset.method + " – " +
        (offered ? offered.dataset.cost : notOfferedTo.replace("%(country)s", name));
    });
    syncMethod();
  }

  radios.forEach(function (radio) { radio.addEventListener("change", syncMethod); });
  ["id_billing_country", "id_shipping_country", "id_same_address"].forEach(function (id) {
    var field = document.getElementById(id);
    if (field) field.addEventListener("change", syncCountry);
  });
  syncMethod();
})();
