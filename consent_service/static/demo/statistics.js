// Stands in for a third-party script that the banner runs only with "statistics" consent.
document.querySelectorAll('[data-demo-gate="statistics"]').forEach(function (el) {
  el.textContent = "laddat";
});
