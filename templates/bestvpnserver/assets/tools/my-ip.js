// What is my IP: asks the tools function which address and location it sees.
(function () {
  "use strict";
  var root = document.querySelector('[data-tool="my-ip"]');
  if (!root) return;
  function field(name, text) {
    var element = root.querySelector('[data-field="' + name + '"]');
    element.textContent = text;
    element.hidden = false;
  }
  root.querySelector('[data-field="js"]').textContent = "Asking our server which address it sees…";
  field("ip", "checking…");
  root.dataset.state = "running";
  fetch("/api/tools/my-ip", { cache: "no-store" })
    .then(function (response) {
      if (!response.ok) throw new Error("the server answered " + response.status);
      return response.json();
    })
    .then(function (data) {
      var where = data.location || {};
      field("ip", data.ip || "unknown");
      field("version", data.version ? "IPv" + data.version : "unknown");
      field("location", [where.city, where.subdivision && where.subdivision.name, where.country && where.country.name]
        .filter(Boolean).join(", ") || "unknown");
      root.dataset.state = "done";
    })
    .catch(function (error) {
      field("error", "Could not check your address: " + error.message + ". Reload to try again.");
      root.dataset.state = "error";
    });
})();
