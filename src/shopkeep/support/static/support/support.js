// Progressive enhancement for ticket forms (no inline scripts: CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Show the guided prompts of the chosen category only (all are shown without JS).
  const category = document.querySelector("select[name=category][data-prompts]");
  const sync = () => {
    document.querySelectorAll(".prompts[data-category]").forEach((block) => {
      block.hidden = block.dataset.category !== category.value;
    });
  };
  if (category) { category.addEventListener("change", sync); sync(); }
  // Urgent asks the owner to confirm that the store is down or cannot take payments.
  const priority = document.querySelector("select[name=priority][data-urgent]");
  const confirmBox = document.getElementById("urgent-confirm");
  const syncUrgent = () => { if (confirmBox) confirmBox.hidden = priority.value !== "urgent"; };
  if (priority) { priority.addEventListener("change", syncUrgent); syncUrgent(); }
});
