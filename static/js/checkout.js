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
