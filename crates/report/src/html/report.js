// Shows the snippets that match the status and category filters and counts them.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var snippets = Array.prototype.slice.call(document.querySelectorAll("details.snippet"));
  function apply() {
    var status = form.querySelector("input[name=status]:checked").value;
    var category = form.elements.category.value;
    var count = 0;
    snippets.forEach(function (snippet) {
      var visible = (status === "all" || snippet.dataset.status === status) &&
        (category === "all" || snippet.dataset.category === category);
      snippet.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = String(count);
  }
  form.addEventListener("change", apply);
  // A filter in the address (#failed, #timeout) opens the page on those snippets.
  var wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted) {
    var radio = form.querySelector("input[name=status][value='" + wanted.replace(/[^a-z-]/g, "") + "']");
    if (radio) { radio.checked = true; }
    var option = Array.prototype.some.call(form.elements.category.options, function (o) { return o.value === wanted; });
    if (option) { form.elements.category.value = wanted; }
  }
  apply();
  document.body.dataset.ready = "true";
}());
