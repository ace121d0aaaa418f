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
