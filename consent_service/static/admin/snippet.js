// Copy buttons for the snippet page's code blocks. Without this script the buttons stay
// hidden and the code is plain selectable text.
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (a test host): copy through a selected, off-screen textarea.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var done = false;
      try {
        done = document.execCommand("copy");
      } catch (e) {
        done = false;
      }
      area.remove();
      done ? resolve() : reject(new Error("copy refused"));
    });
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var code = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy") + "-status");
    if (!code || !status) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(code.textContent).then(
        function () {
          status.textContent = "Kopierat";
        },
        function () {
          status.textContent = "Kunde inte kopiera: markera texten och kopiera den själv (copy failed)";
        },
      );
      setTimeout(function () {
        status.textContent = "";
      }, 6000);
    });
  });
})();
