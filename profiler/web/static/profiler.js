// After htmx swaps in a new page, move the focus to its heading so that screen readers announce it, as they
// would after a full page load. Nothing else is scripted: every page works without JavaScript.
document.addEventListener("htmx:afterSettle", function () {
  var heading = document.querySelector("main h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
});
