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

// Bar widths and marker positions computed per page come as data-width / data-left
// (percentages), not as style="" attributes: the Content-Security-Policy refuses inline
// style attributes, but not styles set from a script. Also in fragments htmx swaps in.
(function () {
  const percent = (value) => {
    const number = parseFloat(value);
    return Number.isFinite(number) ? `${number}%` : null;
  };
  const place = (root) => {
    const within = (selector) => {
      const found = Array.from(root.querySelectorAll(selector));
      return root.matches && root.matches(selector) ? [root, ...found] : found;
    };
    within("[data-width]").forEach((el) => {
      const width = percent(el.dataset.width);
      if (width !== null) el.style.width = width;
    });
    within("[data-left]").forEach((el) => {
      const left = percent(el.dataset.left);
      if (left !== null) el.style.left = left;
    });
  };
  if (typeof htmx !== "undefined") {
    htmx.onLoad(place); // the page once it is ready, then every fragment swapped in
  } else {
    document.addEventListener("DOMContentLoaded", () => place(document));
  }
})();

// Forms with data-confirm ask first (an inline onsubmit="" would be refused by the CSP).
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
