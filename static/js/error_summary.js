// After a refused submit, take the keyboard and the screen reader to the list of
// problems; each entry links to its field. Without JavaScript the summary is still the
// first thing in the page's content and is announced as an alert.
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
