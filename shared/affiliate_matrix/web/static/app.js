// Filters apply as soon as they change (the form still works without this script: "Apply filters").
// A closed list stepped through with the keyboard changes at every arrow key: it applies on Enter or on leaving it,
// so a keyboard can reach the options past the first one (WCAG 3.2.2, on input).
const applies = (target) => target.classList && target.classList.contains("autosubmit");
const changed = (select) => [...select.options].some((option) => option.selected !== option.defaultSelected);
let stepping = null;
document.addEventListener("keydown", (event) => {
  if (event.target.tagName !== "SELECT" || !applies(event.target)) return;
  if (event.key === "Enter") {
    event.preventDefault();
    event.target.form.requestSubmit();
  } else if (event.key !== "Tab") {
    stepping = event.target;
  }
});
document.addEventListener("focusout", (event) => {
  if (event.target === stepping) {
    stepping = null;
    if (changed(event.target)) event.target.form.requestSubmit();
  }
});
document.addEventListener("change", (event) => {
  if (applies(event.target) && event.target !== stepping) event.target.form.requestSubmit();
});

// On a phone the filters start folded, so the results are on the first screen.
const filterPanel = document.getElementById("filter-panel");
if (filterPanel && window.matchMedia("(max-width: 760px)").matches) {
  filterPanel.open = false;
}
