// The household form: "添加成员" appends an empty row of the members table from the
// <template>, numbered after the existing rows (Django formset prefix "members"); a box
// reveals the fields it governs (data-reveals).
(function () {
  "use strict";

  function addMember(button) {
    var prefix = button.getAttribute("data-prefix");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var template = document.getElementById("member-template");
    var rows = document.getElementById("member-rows");
    if (!total || !template || !rows) {
      return;
    }
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) {
      return;
    }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    var number = row.querySelector(".row-number");
    if (number) {
      number.textContent = String(index + 1);
    }
    rows.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("select, input:not([type=hidden])");
    if (first) {
      first.focus();
    }
  }

  // A box whose data-reveals names fields (农民工: union membership, labour relation) shows
  // them only while ticked. Without the script they are always shown; a field with an error
  // stays shown so that it can be corrected.
  function reveal(box) {
    (box.getAttribute("data-reveals") || "").split(" ").forEach(function (id) {
      var input = document.getElementById(id);
      var field = input && input.closest(".field");
      if (field) {
        field.hidden = !box.checked && !field.classList.contains("has-error");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-reveals]").forEach(function (box) {
      reveal(box);
      box.addEventListener("change", function () {
        reveal(box);
      });
    });
    var button = document.getElementById("add-member");
    if (button) {
      button.addEventListener("click", function () {
        addMember(button);
      });
    }
  });
})();
