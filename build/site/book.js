// The copy buttons of replay commands. Local script; the site loads nothing from other hosts.
document.addEventListener("click", async (ev) => {
  const button = ev.target instanceof Element ? ev.target.closest(".book-copy") : null;
  if (!button) return;
  const text = button.getAttribute("data-copy") || "";
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = "copied";
  setTimeout(() => (button.textContent = "copy"), 1500);
});
