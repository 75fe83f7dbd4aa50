// Filters apply as soon as they change (the form still works without this script: "Apply filters").
// A closed list stepped through with the keyboard changes at every arrow key: it applies on Enter or on leaving it,
// so a keyboard can reach the options past the first one (WCAG 3.2.2, on input).
// The page that loads then puts the focus back on the control that applied it: a keyboard was sent to the page's
// start after each ticked filter, sixteen Tabs from the next one.
const applies = (target) => target.classList && target.classList.contains("autosubmit");
const APPLIED = "amx-applied";
const apply = (control) => {
  sessionStorage.setItem(APPLIED, JSON.stringify([control.name, control.type === "checkbox" ? control.value : null]));
  control.form.requestSubmit();
};
const changed = (select) => [...select.options].some((option) => option.selected !== option.defaultSelected);
let stepping = null;
document.addEventListener("keydown", (event) => {
  if (event.target.tagName !== "SELECT" || !applies(event.target)) return;
  if (event.key === "Enter") {
    event.preventDefault();
    apply(event.target);
  } else if (event.key !== "Tab") {
    stepping = event.target;
  }
});
document.addEventListener("focusout", (event) => {
  if (event.target === stepping) {
    stepping = null;
    if (changed(event.target)) apply(event.target);
  }
});
document.addEventListener("change", (event) => {
  if (applies(event.target) && event.target !== stepping) apply(event.target);
});

// A search form sends only the fields that hold something: its empty ones (the words, each minimum, "any") made every
// address a person copies or bookmarks a string of "&min_epc=&min_cookie_days=". The pages read a blank field as none.
document.addEventListener("formdata", (event) => {
  if (event.target.method !== "get") return;
  const kept = [...event.formData].filter(([, value]) => value !== "");
  for (const name of new Set(event.formData.keys())) event.formData.delete(name);
  for (const [name, value] of kept) event.formData.append(name, value);
});

// On a phone the filters start folded, so the results are on the first screen; those of a refused search stay open,
// where what to change is (the currency a minimum amount needs).
const filterPanel = document.getElementById("filter-panel");
if (filterPanel && !("refused" in filterPanel.dataset) && window.matchMedia("(max-width: 760px)").matches) {
  filterPanel.open = false;
}

const applied = JSON.parse(sessionStorage.getItem(APPLIED) || "null");
sessionStorage.removeItem(APPLIED);
const control = applied && [...document.querySelectorAll(".autosubmit")]
  .find((input) => input.name === applied[0] && (applied[1] === null || input.value === applied[1]));
if (control) {
  if (filterPanel && filterPanel.contains(control)) filterPanel.open = true;  // folded on a phone
  control.focus();
}
