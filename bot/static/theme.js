// Before the page is drawn: the high-contrast theme the reader chose last time (F3).
try {
  if (localStorage.getItem("exportbot.theme") === "contrast") {
    document.documentElement.dataset.theme = "contrast";
  }
} catch (e) {
  // Storage refused (private mode): the default theme.
}
