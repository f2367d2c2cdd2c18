// Every page: Bootstrap tooltips ([data-bs-toggle="tooltip"]), also in fragments htmx swaps in.
(function () {
  if (typeof bootstrap === "undefined") return;
  const init = (root) => {
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => {
      bootstrap.Tooltip.getOrCreateInstance(el);
    });
  };
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.body.addEventListener("htmx:afterSwap", (event) => init(event.target));
})();
