// exportbot's pages (F3): the theme toggle, the spoken summary, the filter, the shortcuts
// (g h, g j, ?) and their help dialog. No framework; nothing loaded from elsewhere.
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;

  // -- the high-contrast theme, remembered in this browser --------------------------------
  var toggle = document.getElementById("theme-toggle");
  function showTheme() {
    toggle.setAttribute("aria-pressed", root.dataset.theme === "contrast" ? "true" : "false");
  }
  if (toggle) {
    showTheme();
    toggle.addEventListener("click", function () {
      var contrast = root.dataset.theme !== "contrast";
      if (contrast) {
        root.dataset.theme = "contrast";
      } else {
        delete root.dataset.theme;
      }
      try {
        localStorage.setItem("exportbot.theme", contrast ? "contrast" : "default");
      } catch (e) {
        // Not remembered, still applied.
      }
      showTheme();
    });
  }

  // -- the spoken summary: the sentence goes into the live region, read out once ----------
  var spokenButton = document.getElementById("spoken-button");
  var spoken = document.getElementById("spoken");
  var sentence = document.getElementById("spoken-text");
  if (spokenButton && spoken && sentence) {
    spokenButton.addEventListener("click", function () {
      spoken.textContent = "";
      // A fresh change, so a second press is announced again.
      window.setTimeout(function () {
        spoken.textContent = sentence.content.textContent.trim();
      }, 50);
    });
  }

  // -- the history's filter -------------------------------------------------------------------
  var filter = document.getElementById("filter");
  var table = document.getElementById("jobs");
  if (filter && table) {
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      var rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        rows[i].hidden = wanted !== "" && rows[i].textContent.toLowerCase().indexOf(wanted) < 0;
      }
    });
  }

  // -- the help dialog: focus kept inside, Escape closes, focus goes back ------------------
  var dialog = document.getElementById("shortcuts");
  var opener = null;
  function focusables() {
    return Array.prototype.slice.call(
      dialog.querySelectorAll("a[href], button:not([disabled]), input, [tabindex]:not([tabindex='-1'])")
    );
  }
  function openHelp() {
    if (!dialog || dialog.open) return;
    opener = document.activeElement;
    dialog.showModal();
    var first = focusables()[0];
    if (first) first.focus();
  }
  function closeHelp() {
    if (dialog && dialog.open) dialog.close();
  }
  if (dialog) {
    document.getElementById("shortcuts-open").addEventListener("click", openHelp);
    document.getElementById("shortcuts-close").addEventListener("click", closeHelp);
    dialog.addEventListener("close", function () {
      var back = opener && document.contains(opener) ? opener : body;
      opener = null;
      if (back && back.focus) back.focus();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeHelp();
        return;
      }
      if (event.key !== "Tab") return;
      var items = focusables();
      if (!items.length) {
        event.preventDefault();
        return;
      }
      var first = items[0];
      var last = items[items.length - 1];
      var at = items.indexOf(document.activeElement);
      if (event.shiftKey && (at <= 0)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (at === items.length - 1 || at < 0)) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  // -- the shortcuts: g h, g j and ?, never while typing ----------------------------------
  var pending = false;
  var timer = null;
  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])"));
  }
  function go(url) {
    if (url) window.location.assign(url);
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || (dialog && dialog.open)) return;
    if (event.key === "?") {
      event.preventDefault();
      pending = false;
      openHelp();
      return;
    }
    if (pending) {
      pending = false;
      window.clearTimeout(timer);
      if (event.key === "h") {
        event.preventDefault();
        go(body.dataset.history);
      } else if (event.key === "j") {
        event.preventDefault();
        go(body.dataset.latest);
      }
      return;
    }
    if (event.key === "g") {
      pending = true;
      timer = window.setTimeout(function () {
        pending = false;
      }, 1500);
    }
  });
})();
