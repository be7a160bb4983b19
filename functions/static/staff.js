// The staff console's small enhancements; every action works without this file.
// A reply template chosen from the list replaces the note's text (which stays editable).
document.querySelectorAll("select.reply").forEach(function (select) {
  select.addEventListener("change", function () {
    var note = document.getElementById(select.getAttribute("data-for"));
    if (note) { note.value = select.value; note.focus(); }
  });
});
