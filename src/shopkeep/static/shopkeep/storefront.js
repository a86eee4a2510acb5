// Storefront progressive enhancement; every page works without it. No inline handlers (CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Copy the server address (or any element named by data-copy).
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target || !navigator.clipboard) return;
      navigator.clipboard.writeText(target.textContent.trim()).then(() => {
        const label = button.querySelector("span") || button;
        const before = label.textContent;
        label.textContent = "Copied";
        setTimeout(() => { label.textContent = before; }, 2000);
      }).catch(() => {});
    });
  });
  document.querySelectorAll("button[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
