// Upload with a progress bar. Without JavaScript the form posts normally.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.hidden = false;
    status.textContent = "正在上传…";
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        if (e.loaded === e.total) { status.textContent = "上传完成，正在校验和导入…"; }
      }
    });
    request.addEventListener("load", function () {
      // The server answers with where to go: the batch, or back to the form with a message.
      let target = form.action;
      try { target = JSON.parse(request.responseText).location || target; } catch (e) { /* an error page */ }
      window.location.assign(target);
    });
    request.addEventListener("error", function () {
      status.textContent = "上传失败，请检查网络后重试";
      button.disabled = false;
    });
    request.send(new FormData(form));
  });
})();
