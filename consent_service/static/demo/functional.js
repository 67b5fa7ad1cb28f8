// Stands in for a third-party script that the banner runs only with "functional" consent.
document.querySelectorAll('[data-demo-gate="functional"]').forEach(function (el) {
  el.textContent = "laddat";
});
