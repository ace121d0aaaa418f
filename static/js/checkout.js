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

// Keep the order summary in step with the chosen shipping method. Every method's cost
// and total come from the server with the page; without JavaScript the summary follows
// the method after the form is sent.
(function () {
  var options = document.querySelectorAll("#shipping-options li");
  var label = document.getElementById("summary-shipping-label");
  var cost = document.getElementById("summary-shipping");
  var total = document.getElementById("summary-total");
  if (!options.length || !label || !cost || !total) return;
  function sync() {
    var chosen = document.querySelector("input[name=shipping_method]:checked");
    if (!chosen) return;
    options.forEach(function (option) {
      if (option.dataset.method !== chosen.value) return;
      label.textContent = option.dataset.label;
      cost.textContent = option.dataset.cost;
      total.textContent = option.dataset.total;
    });
  }
  document.querySelectorAll("input[name=shipping_method]").forEach(function (radio) {
    radio.addEventListener("change", sync);
  });
  sync();
})();
