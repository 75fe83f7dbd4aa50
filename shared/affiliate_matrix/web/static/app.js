// Filters apply as soon as they change (the form still works without this script: "Apply filters").
document.addEventListener("change", (event) => {
  if (event.target.classList && event.target.classList.contains("autosubmit")) {
    event.target.form.requestSubmit();
  }
});
