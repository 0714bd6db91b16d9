// The call list: a copy button beside each short GUID puts the whole GUID on the clipboard.
"use strict";

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // http on a host other than localhost has no clipboard API: copy from a selected, hidden field
  const field = document.createElement("textarea");
  field.value = text;
  field.setAttribute("readonly", "");
  field.style.position = "fixed";
  field.style.opacity = "0";
  document.body.appendChild(field);
  field.select();
  const copied = document.execCommand("copy");
  field.remove();
  return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  copyText(button.dataset.copy).then(
    () => { button.classList.add("done"); button.setAttribute("aria-label", "Copied"); },
    () => { button.title = "The browser refused to copy: select the GUID on the call's page"; },
  ).finally(() => setTimeout(() => {
    button.classList.remove("done");
    button.setAttribute("aria-label", "Copy the GUID");
  }, 1500));
});
