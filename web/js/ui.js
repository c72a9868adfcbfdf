// Small DOM helpers. Text always goes in through textContent: nothing from the API or the person is parsed as HTML.

/** A new element: el("p", {className: "x", text: "…"}, child, …). Attributes are set as properties or attributes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("aria-") || name.startsWith("data-") || name === "role") node.setAttribute(name, String(value));
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

/** Say `message` through the page's polite live region (screen readers announce it once). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A change after an empty frame is announced even when the same words come twice.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}

/** Show exactly one of the page's [data-state] sections. */
export function showState(name) {
  for (const section of document.querySelectorAll("[data-state]")) {
    section.hidden = section.dataset.state !== name;
  }
}

/**
 * A problem panel for an ApiError: a plain message, and the request id to quote to support when there is one.
 * `retry` adds a "Try again" button.
 */
export function problemPanel(error, { title = "Something went wrong", retry } = {}) {
  const panel = el("div", { className: "problem", role: "alert" });
  panel.append(el("h2", { text: title }));
  panel.append(el("p", { text: messageFor(error) }));
  if (error && error.requestId) {
    panel.append(
      el("p", { className: "reference" }, "If you contact us, quote this reference: ", el("code", { text: error.requestId })),
    );
  }
  if (retry) {
    const button = el("button", { type: "button", className: "button secondary", text: "Try again" });
    button.addEventListener("click", retry);
    panel.append(button);
  }
  return panel;
}

export function messageFor(error) {
  if (!error) return "Please try again in a moment.";
  if (error.code === "RATE_LIMITED") return "Too many attempts in a short time. Please wait a minute and try again.";
  if (error.code === "SERVICE_UNAVAILABLE") return "Reckoning is briefly unavailable. Please try again in a moment.";
  if (error.status === 0) return error.message;
  if (error.status >= 500) return "Our side failed to answer. Nothing you did caused this; please try again.";
  return error.message || "Please try again in a moment.";
}

/** Replace the children of `container` with `nodes`. */
export function fill(container, ...nodes) {
  container.replaceChildren(...nodes.flat());
}

export const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
