// Pipeline board: cards drag between stage columns (SortableJS); a drop posts the new stage through htmx
// and the board is redrawn with the filters in force.
(function () {
  function moveCard(id, stage) {
    var body = new URLSearchParams({stage: stage, from: "board"});
    document.querySelectorAll("#board-filters select").forEach(function (s) { if (s.value) body.append(s.name, s.value); });
    htmx.ajax("POST", "/opportunities/" + id + "/stage/", {target: "#board", swap: "innerHTML", values: Object.fromEntries(body)});
  }
  function init() {
    document.querySelectorAll(".board-list[data-writable]").forEach(function (el) {
      if (el._sortable) return;
      el._sortable = Sortable.create(el, {
        group: "pipeline", animation: 120, draggable: ".board-card",
        onAdd: function (evt) { moveCard(evt.item.dataset.id, evt.to.dataset.stage); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.body.addEventListener("htmx:afterSettle", init);
})();
