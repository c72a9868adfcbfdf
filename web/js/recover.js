// Lost-link recovery: POST /api/report/links {email} answers 202 with the same words whether or not the
// address is known (so the page cannot be used to learn who bought a report).

import { api } from "./api.js";
import { announce, fill, problemPanel, showState } from "./ui.js";

const form = document.getElementById("recover");
const input = document.getElementById("email");
const error = document.getElementById("email-error");
const button = document.getElementById("send");

function fieldError(message) {
  error.textContent = message || "";
  error.hidden = !message;
  if (message) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", error.id);
    input.focus();
    announce(message);
  } else {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (button.disabled) return;
  fill(document.getElementById("recover-problem"));
  const email = input.value.trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    fieldError(email ? "Please enter an email address like name@example.com." : "Please enter your email address.");
    return;
  }
  fieldError(null);
  button.disabled = true;
  try {
    const { data } = await api("POST", "/api/report/links", { json: { email } });
    document.getElementById("sent-message").textContent = data.message;
    showState("sent");
    announce(data.message);
  } catch (failure) {
    const detail = failure.details.find((item) => item.field === "email");
    if (detail) fieldError(detail.message);
    else fill(document.getElementById("recover-problem"), problemPanel(failure, { title: "Nothing was sent" }));
  } finally {
    button.disabled = false;
  }
});
