// Filters apply as soon as they change (the form still works without this script: "Apply filters").
document.addEventListener("change", (event) => {
  if (event.target.classList && event.target.classList.contains("autosubmit")) {
    event.target.form.requestSubmit();
  }
});

// On a phone the filters start folded, so the results are on the first screen.
const filterPanel = document.getElementById("filter-panel");
if (filterPanel && window.matchMedia("(max-width: 760px)").matches) {
  filterPanel.open = false;
}
