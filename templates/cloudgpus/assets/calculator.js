// The cost calculator: GPU price x count x hours, at the lowest and median on-demand price.
// The controls ship disabled (the page says it needs JavaScript); this enables them.
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
  // The number in input, or an error message saying what is wrong with it.
  function read(input, name, whole) {
    var text = input.value.trim();
    var min = parseFloat(input.min), max = parseFloat(input.max);
    if (text === "") return { error: "Enter the number of " + name + "." };
    var value = Number(text);
    if (!isFinite(value)) return { error: "The number of " + name + " must be a number." };
    if (whole && Math.floor(value) !== value) return { error: "The number of " + name + " must be a whole number." };
    if (value < min) return { error: "The number of " + name + " must be at least " + min + "." };
    if (value > max) return { error: "The number of " + name + " must be at most " + max.toLocaleString("en-US") + "." };
    return { value: value };
  }
  function show(input, result) {
    var message = document.getElementById(input.id + "-error");
    message.textContent = result.error || "";
    if (result.error) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  function update() {
    var option = gpu.options[gpu.selectedIndex];
    var n = read(count, "GPUs", true), h = read(hours, "hours", false);
    show(count, n);
    show(hours, h);
    if (n.error || h.error) {
      out.textContent = "Fix the value above to see a cost.";
      return;
    }
    var low = parseFloat(option.value) * n.value * h.value;
    var median = parseFloat(option.getAttribute("data-median")) * n.value * h.value;
    out.textContent = money(low) + " at the lowest price, " + money(median) + " at the median, for " +
      n.value + " × " + option.textContent + " for " + h.value + " hours.";
  }
  [gpu, count, hours].forEach(function (control) { control.disabled = false; });
  var note = document.querySelector(".needs-js");
  if (note) {  // replaced in place, same box: nothing below it moves
    note.textContent = "Pick a GPU and enter the GPU count and hours: the cost updates as you type. The table below gives the hourly prices.";
    note.className += " ran";
  }
  form.addEventListener("input", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  update();
})();
