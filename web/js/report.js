// The report page: /report#<token>. Polls the status as the server asks (Retry-After, else a growing backoff),
// revalidates a ready report with its ETag, and renders it with textContent only (the report is model output).

import { api } from "./api.js";
import { pay } from "./pay.js";
import { forgetToken, rememberedToken, reportPath, tokenFromFragment } from "./token.js";
import { announce, el, fill, problemPanel, showState, sleep } from "./ui.js";

const WAITING = {
  awaiting_payment: {
    line: "Waiting for the payment to be confirmed",
    detail: "Confirmation usually arrives within a minute of paying. If you left the payment page before paying, nothing was charged.",
  },
  paid: { line: "Payment received: your report is next in line", detail: "Writing starts in a moment." },
  generating: {
    line: "Your report is being written",
    detail: "It is written from your answers, then checked carefully before it is released. This usually takes a minute or two.",
  },
};
const STOPPED = {
  failed: {
    title: "We could not write your report",
    next: "We have been alerted and will contact you by email. You will not be charged for a report you did not get.",
  },
  needs_review: {
    title: "Your report is with a person for a final check",
    next: "This happens now and then, before we release a report. We will email you as soon as it is released; this page keeps checking too.",
  },
  refunded: {
    title: "This reckoning was refunded",
    next: "The payment was returned, so the report is no longer available.",
  },
};
const HORIZON = { this_week: "This week", this_month: "This month", this_year: "This year" };
const READY_RECHECK_S = 300; // a released report can be re-released (a new version): look again now and then
const REVIEW_RECHECK_S = 60;

let token = tokenFromFragment();
let endpoint = null;
let etag = null;
let lastStatus = null;
let stopped = false;
let nap = null; // the current wait between polls, cut short by wake()
let failures = 0;
let quietPolls = 0;

function wake() {
  nap?.abort();
}

// ---------------------------------------------------------------- polling

async function poll() {
  while (!stopped) {
    let wait;
    try {
      const result = await api("GET", endpoint, { headers: etag ? { "If-None-Match": etag } : {} });
      failures = 0;
      if (result.status !== 304) {
        etag = result.etag || null;
        update(result.data);
      }
      wait = nextWait(lastStatus, result);
    } catch (error) {
      if (error.status === 404) return unknown();
      failures += 1;
      if (!error.transient || lastStatus === null) {
        fill(document.getElementById("problem"), problemPanel(error, { title: "Your report could not be loaded", retry: wake }));
        showState("problem");
        announce("Your report could not be loaded.");
        if (!error.transient) return;
      }
      wait = Math.max(error.retryAfter ?? 0, Math.min(60, 2 ** failures));
    }
    if (wait === null || stopped) return;
    nap = new AbortController();
    await sleep(wait * 1000 * (0.9 + Math.random() * 0.2), nap.signal);
  }
}

/** Seconds until the next look: what the server asked for, else a backoff that grows while nothing changes. */
function nextWait(status, result) {
  if (status === "failed" || status === "refunded") return null;
  if (status === "ready") return READY_RECHECK_S;
  const asked = result.retryAfter ?? result.data?.retryAfterSeconds ?? null;
  if (status === "needs_review") return Math.max(asked ?? 0, REVIEW_RECHECK_S);
  quietPolls += 1;
  return asked ?? Math.min(30, 2 * 1.5 ** (quietPolls - 1));
}

function update(data) {
  const changed = data.status !== lastStatus;
  lastStatus = data.status;
  if (changed) quietPolls = 0;
  if (data.status === "ready" && data.report) {
    renderReport(data);
    showState("ready");
    if (changed) announce("Your report is ready.");
  } else if (WAITING[data.status]) {
    const words = WAITING[data.status];
    document.getElementById("waiting-status").textContent = words.line;
    document.getElementById("waiting-detail").textContent = words.detail;
    document.getElementById("pay-row").hidden = data.status !== "awaiting_payment";
    showState("waiting");
    if (changed) announce(`${words.line}.`);
  } else {
    const words = STOPPED[data.status] || { title: "Your report is not available", next: "" };
    document.getElementById("stopped-title").textContent = words.title;
    document.getElementById("stopped-detail").textContent = data.message || data.error?.message || "";
    document.getElementById("stopped-next").textContent = words.next;
    showState("stopped");
    if (changed) announce(`${words.title}.`);
  }
}

// ---------------------------------------------------------------- the report, as text

function paragraphs(text) {
  return String(text)
    .split(/\n\s*\n/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => el("p", { text: part }));
}

function renderReport(data) {
  const report = data.report;
  document.getElementById("report-title").textContent = report.title;
  document.getElementById("report-summary").textContent = report.summary;
  fill(
    document.getElementById("report-sections"),
    (report.sections || []).map((section) =>
      el("section", { className: "report-section" }, el("h2", { text: section.heading }), paragraphs(section.body)),
    ),
  );
  fill(
    document.getElementById("report-steps"),
    (report.nextSteps || []).map((step) =>
      el(
        "li",
        {},
        el("span", { className: "horizon", text: HORIZON[step.horizon] || step.horizon }),
        el("p", { className: "step-action", text: step.action }),
        el("p", { className: "step-why", text: step.why }),
      ),
    ),
  );
  document.getElementById("report-closing").textContent = report.closing || "";
  document.getElementById("pdf-link").href = data.pdfUrl || `${endpoint}/pdf`;
  document.title = `${report.title} — Reckoning`;
}

// ---------------------------------------------------------------- export and erase

async function exportData() {
  const button = document.getElementById("export-button");
  const problem = document.getElementById("action-problem");
  fill(problem);
  button.disabled = true;
  try {
    const { data } = await api("GET", `${endpoint}/export`);
    const blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `reckoning-export-${new Date().toISOString().slice(0, 10)}.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce("Your data export is downloading.");
  } catch (error) {
    if (error.status === 404) return unknown();
    fill(problem, problemPanel(error, { title: "The export did not download" }));
  } finally {
    button.disabled = false;
  }
}

async function erase() {
  const problem = document.getElementById("action-problem");
  fill(problem);
  try {
    await api("DELETE", endpoint);
  } catch (error) {
    if (error.status !== 404) {
      fill(problem, problemPanel(error, { title: "Nothing was erased" }));
      announce("Nothing was erased.");
      return;
    }
  }
  stopped = true;
  wake();
  forgetToken();
  history.replaceState(null, "", "/report"); // the link opens nothing any more: take it out of the address bar
  showState("erased");
  document.getElementById("main").focus();
  announce("Your data is gone.");
}

async function payNow() {
  const button = document.getElementById("pay-button");
  const problem = document.getElementById("pay-problem");
  fill(problem);
  button.disabled = true;
  try {
    await pay(token);
  } catch (error) {
    if (error.status === 404) return unknown();
    fill(problem, problemPanel(error, { title: "The payment page did not open" }));
    button.disabled = false;
  }
}

function unknown() {
  stopped = true;
  if (rememberedToken() === token) forgetToken();
  showState("unknown");
  announce("This link does not open a report.");
}

// ---------------------------------------------------------------- start

function start() {
  if (!token && rememberedToken()) {
    // Back from checkout in this tab: the token waited in sessionStorage; the address bar gets it from now on.
    token = rememberedToken();
    history.replaceState(null, "", reportPath(token));
  }
  if (!token) {
    unknown();
    return;
  }
  endpoint = `/api/report/${encodeURIComponent(token)}`;
  document.getElementById("export-button").addEventListener("click", exportData);
  document.getElementById("pay-button").addEventListener("click", payNow);
  const dialog = document.getElementById("erase-dialog");
  document.getElementById("erase-button").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "erase") erase();
    dialog.returnValue = "";
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") wake();
  });
  window.addEventListener("hashchange", () => location.reload());
  poll();
}

start();
