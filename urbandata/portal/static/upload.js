// Upload progress for the workspace's upload form (progressive enhancement: without JavaScript the
// form posts normally). Sends the same multipart form with XMLHttpRequest, shows the upload progress,
// then follows the server's answer (the schema review page, or an error page).
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var box = document.getElementById(form.getAttribute("data-progress"));
  var bar = box && box.querySelector("progress");
  var status = box && box.querySelector("[role=status]");
  form.addEventListener("submit", function (event) {
    if (!box || !bar) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    box.hidden = false;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        if (status) { status.textContent = pct + " %"; }
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      if (status) { status.textContent = "100 % – " + (form.getAttribute("data-checking") || ""); }
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL !== form.action && xhr.status < 400) {
        window.location.assign(xhr.responseURL);
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      if (button) { button.disabled = false; }
      if (status) { status.textContent = form.getAttribute("data-failed") || ""; }
    });
    xhr.send(new FormData(form));
  });
})();
