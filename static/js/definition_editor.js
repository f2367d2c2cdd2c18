// The draft editor: add and remove rule rows, show the picked activity kinds.
(function () {
  "use strict";
  var editor = document.getElementById("definition-editor");
  var placeholders = JSON.parse(document.getElementById("op-placeholders").textContent);

  function updateValueField(select) {
    var row = select.closest(".rule-row");
    var value = row && row.querySelector("input[name$='-value']");
    if (!value) return;
    var op = select.value;
    value.placeholder = placeholders[op] || "";
    value.disabled = op === "is_true" || op === "is_false";
  }

  function updateKinds(picker) {
    var summary = picker.querySelector(".kinds-summary");
    summary.querySelectorAll(".kind-chip").forEach(function (chip) { chip.remove(); });
    var empty = summary.querySelector(".kinds-empty");
    picker.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      var chip = document.createElement("span");
      chip.className = "kind-chip";
      chip.textContent = box.nextElementSibling.textContent;
      summary.insertBefore(chip, empty);
    });
  }

  editor.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[name$='-op']")) updateValueField(target);
    if (target.closest(".kinds-picker")) updateKinds(target.closest(".kinds-picker"));
    if (target.matches(".rule-delete")) {
      target.closest(".rule-row").classList.toggle("rule-deleted", target.checked);
    }
  });

  editor.querySelectorAll(".add-rule").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.dataset.formset;
      var section = editor.querySelector(".rule-section[data-formset='" + prefix + "']");
      var total = section.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
      var index = parseInt(total.value, 10);
      var html = document.getElementById("empty-" + prefix).innerHTML.replace(/__prefix__/g, String(index));
      var list = section.querySelector(".rule-list");
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var added = list.querySelectorAll(".rule-row");
      var row = added[added.length - 1];
      var op = row.querySelector("select[name$='-op']");
      if (op) updateValueField(op);
      var first = row.querySelector("input[name$='-key']");
      if (first) first.focus();
    });
  });

  editor.querySelectorAll("select[name$='-op']").forEach(updateValueField);
})();
