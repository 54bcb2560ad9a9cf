// New version: clicking an error's "line L, column C" puts the cursor there in the text.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const source = document.querySelector("textarea.policy-source");
  if (!source) {
    return;
  }
  document.querySelectorAll("a[data-line][data-column]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const line = Number(link.dataset.line);
      const column = Number(link.dataset.column);
      const lines = source.value.split("\n");
      let offset = 0;
      for (let index = 0; index < line - 1 && index < lines.length; index += 1) {
        offset += lines[index].length + 1;
      }
      offset = Math.min(offset + Math.max(column - 1, 0), source.value.length);
      source.focus();
      source.setSelectionRange(offset, offset);
      const lineHeight = source.scrollHeight / Math.max(lines.length, 1);
      source.scrollTop = Math.max(0, (line - 3) * lineHeight);
    });
  });
});
