// The cost calculator: GPU price x count x hours, at the lowest and median on-demand price.
(function () {
  "use strict";
  var form = document.getElementById("calc");
  if (!form) return;
  var gpu = document.getElementById("calc-gpu");
  var count = document.getElementById("calc-count");
  var hours = document.getElementById("calc-hours");
  var out = document.getElementById("calc-result");
  function money(value) {
    return "$" + value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function update() {
    var option = gpu.options[gpu.selectedIndex];
    var n = Math.max(1, parseInt(count.value, 10) || 1);
    var h = Math.max(1, parseFloat(hours.value) || 1);
    var low = parseFloat(option.value) * n * h;
    var median = parseFloat(option.getAttribute("data-median")) * n * h;
    out.textContent = money(low) + " at the lowest price, " + money(median) + " at the median, for " +
      n + " × " + option.textContent + " for " + h + " hours.";
  }
  form.addEventListener("input", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  update();
})();
