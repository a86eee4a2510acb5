// Progressive enhancement only; every page works without it. No inline handlers (CSP).
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  // Phones: the dashboard navigation folds behind its Menu button.
  document.querySelectorAll("button[data-nav-toggle]").forEach((button) => {
    button.addEventListener("click", () => {
      const open = button.closest(".sidebar").classList.toggle("nav-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  // Forms marked data-confirm ask before submitting (revoke, remove).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // The store switcher navigates on change.
  document.querySelectorAll("select[data-navigate]").forEach((select) => {
    select.addEventListener("change", () => { window.location.href = select.value; });
  });
  // Copy buttons for secrets shown once.
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", () => {
      const target = document.getElementById(button.dataset.copy);
      if (target && navigator.clipboard) {
        navigator.clipboard.writeText(target.textContent.trim());
        button.textContent = "Copied";
      }
    });
  });
});
