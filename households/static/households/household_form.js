// The members table of the household form: "添加成员" appends an empty row from the
// <template>, numbered after the existing rows (Django formset prefix "members").
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

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("add-member");
    if (button) {
      button.addEventListener("click", function () {
        addMember(button);
      });
    }
  });
})();
