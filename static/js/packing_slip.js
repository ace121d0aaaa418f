// The packing slip's Print button (no inline handlers: see the Content-Security-Policy).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-slip");
  if (button) button.addEventListener("click", function () { window.print(); });
});
