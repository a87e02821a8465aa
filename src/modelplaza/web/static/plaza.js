// ModelPlaza's small helpers for every page: CSRF on htmx requests, copy buttons.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const code = button.parentElement.querySelector("code");
  try {
    await navigator.clipboard.writeText(code.innerText);
    button.textContent = "Copied";
  } catch {
    // No clipboard permission (an http:// address): select the text for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(code);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});

window.plaza = {
  csrfToken: () => document.querySelector('meta[name="csrf-token"]').content,
};

// A <select data-autosubmit> (the branch selector) navigates as soon as it changes.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// A form marked data-drop-empty leaves its empty fields out of htmx requests, so the address it
// pushes stays short: /models?q=bert, not /models?q=bert&author=&license=.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.matches("form[data-drop-empty]")) return;
  const parameters = event.detail.parameters;
  for (const name of Object.keys(parameters)) {
    if (parameters[name] === "") delete parameters[name];
  }
});
