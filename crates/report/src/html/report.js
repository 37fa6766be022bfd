// Shows the snippets that match the status and category filters and counts them; moves
// between the findings with the keyboard.
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
  if (form) {
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
  }

  // j / k (or n / p) go to the next / previous finding, in the findings list's order.
  var marks = Array.prototype.slice.call(document.querySelectorAll("[data-finding]"));
  marks.sort(function (a, b) { return Number(a.dataset.finding) - Number(b.dataset.finding); });
  var links = {};
  Array.prototype.forEach.call(document.querySelectorAll("#findings a[data-goes-to]"), function (a) {
    links[a.dataset.goesTo] = a;
  });
  var current = -1;
  function show(index) {
    if (index < 0 || index >= marks.length) { return; }
    current = index;
    var mark = marks[index];
    for (var parent = mark.parentElement; parent; parent = parent.parentElement) {
      if (parent.tagName === "DETAILS") { parent.open = true; }
    }
    mark.scrollIntoView({ block: "center" });
    mark.focus({ preventScroll: true });
    history.replaceState(null, "", "#" + mark.id);
    Object.keys(links).forEach(function (id) { links[id].removeAttribute("aria-current"); });
    var link = links[mark.id];
    if (link) {
      link.setAttribute("aria-current", "true");
      link.scrollIntoView({ block: "nearest" });
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { return; }
    if (event.key === "j" || event.key === "n") { show(current + 1); event.preventDefault(); }
    if (event.key === "k" || event.key === "p") { show(Math.max(current - 1, 0)); event.preventDefault(); }
  });
  Object.keys(links).forEach(function (id) {
    links[id].addEventListener("click", function (event) {
      var index = marks.findIndex(function (m) { return m.id === id; });
      if (index >= 0) { event.preventDefault(); show(index); }
    });
  });
  document.body.dataset.ready = "true";
}());
