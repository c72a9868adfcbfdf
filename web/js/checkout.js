// The pages Stripe Checkout sends the person back to. Their URLs carry only Stripe's session id; the token
// that opens the report waited in this tab's sessionStorage (token.js).

import { pay } from "./pay.js";
import { rememberedToken, reportPath } from "./token.js";
import { announce, fill, problemPanel, showState } from "./ui.js";

const SESSION_ID = /^cs_[A-Za-z0-9_]{1,200}$/;

function success() {
  const session = new URLSearchParams(location.search).get("session_id");
  if (session && SESSION_ID.test(session)) {
    const reference = document.getElementById("reference");
    reference.textContent = `Payment reference: ${session}`;
    reference.hidden = false;
  }
  const token = rememberedToken();
  if (!token) {
    showState("elsewhere");
    return;
  }
  document.getElementById("report-link").href = reportPath(token);
  showState("continue");
  announce("Payment received. Opening your report.");
  location.replace(reportPath(token)); // replace: Back does not return to this page
}

function cancel() {
  const token = rememberedToken();
  if (!token) {
    showState("restart");
    return;
  }
  showState("again");
  const button = document.getElementById("pay-again");
  const problem = document.getElementById("pay-problem");
  button.addEventListener("click", async () => {
    fill(problem);
    button.disabled = true;
    try {
      await pay(token);
    } catch (error) {
      if (error.status === 404) {
        showState("restart");
        return;
      }
      fill(problem, problemPanel(error, { title: "The payment page did not open" }));
      announce("The payment page did not open.");
      button.disabled = false;
    }
  });
}

if (document.body.dataset.page === "success") success();
else cancel();
