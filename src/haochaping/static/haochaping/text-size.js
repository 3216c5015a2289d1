// The header's 大字版/标准版 toggle (适老化, R8.3) without leaving the page: what someone has typed or chosen on it
// (a 差评's reasons and comment) stays. The server still sets the cookie; without script, or if this request fails,
// the form posts as before and the server redirects back to the page.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("text-size") || !window.fetch || !window.FormData) return;
  var button = form.querySelector("button[name=large]");
  if (!button) return;
  event.preventDefault();
  var large = button.value === "1";
  var data = new FormData(form);
  data.set("large", button.value);
  fetch(form.action, {method: "POST", body: data, credentials: "same-origin", redirect: "manual"})
    .then(function (response) {
      if (response.type !== "opaqueredirect" && !response.ok) throw new Error(String(response.status));
      document.documentElement.classList.toggle("large-text", large);
      document.body.classList.toggle("large-text", large);
      button.value = large ? "0" : "1";
      button.textContent = large ? "标准版" : "大字版";
    })
    .catch(function () {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "large";
      field.value = large ? "1" : "0";
      form.appendChild(field);
      form.submit();
    });
});
