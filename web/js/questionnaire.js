// The questionnaire page: rendered from GET /api/questionnaire, checked against its own limits before sending,
// submitted with an Idempotency-Key (the same one when the same answers are sent again), then off to checkout.

import { api, newIdempotencyKey } from "./api.js";
import { pay } from "./pay.js";
import { rememberToken } from "./token.js";
import { announce, el, fill, problemPanel, showState } from "./ui.js";

const form = document.getElementById("questionnaire");
const summary = document.getElementById("summary");
const submitButton = document.getElementById("submit");

let questionnaire = null;
/** field name ("email", "answers.<id>") -> {control to focus, error element, describedBy element, question?} */
const fields = new Map();
let attempt = null; // {body, key}: a retry of the same body carries the same Idempotency-Key

// ---------------------------------------------------------------- rendering

function hintText(q) {
  const parts = [];
  if (q.help) parts.push(q.help);
  if (q.type === "text") {
    if (q.minLength > 0) parts.push(`${q.minLength} to ${q.maxLength} characters.`);
    else parts.push(`Up to ${q.maxLength} characters.`);
  } else if (q.type === "number") {
    parts.push(`A number from ${q.min} to ${q.max}.`);
  } else if (q.type === "scale" && !q.help) {
    parts.push(`${q.min} is the lowest, ${q.max} the highest.`);
  } else if (q.type === "multi_choice") {
    const min = q.minSelections ?? (q.required ? 1 : 0);
    const max = q.maxSelections ?? q.options.length;
    parts.push(min === max ? `Choose ${min}.` : min > 0 ? `Choose ${min} to ${max}.` : `Choose up to ${max}.`);
  }
  return parts.join(" ");
}

function promptNodes(q, number) {
  return [
    el("span", { className: "qnum", text: `${number}. ` }),
    q.prompt,
    q.required ? null : el("span", { className: "optional", text: " (optional)" }),
  ];
}

function renderQuestion(q, number) {
  const id = `q-${q.id}`;
  const hint = el("p", { className: "hint", id: `${id}-hint`, text: hintText(q) });
  const error = el("p", { className: "field-error", id: `${id}-error`, hidden: true });
  const name = `answers.${q.id}`;
  if (q.type === "text" || q.type === "number") {
    const control =
      q.type === "text" && q.multiline
        ? el("textarea", { id, name, rows: 5, maxLength: q.maxLength })
        : el("input", {
            id,
            name,
            type: q.type === "number" ? "number" : "text",
            maxLength: q.type === "text" ? q.maxLength : undefined,
            min: q.type === "number" ? q.min : undefined,
            max: q.type === "number" ? q.max : undefined,
            step: q.type === "number" ? "any" : undefined,
            inputMode: q.type === "number" ? "decimal" : undefined,
          });
    control.required = Boolean(q.required);
    control.setAttribute("aria-describedby", hint.id);
    if (q.type === "text") {
      const counter = el("span", { className: "counter", text: ` ${0} / ${q.maxLength}` });
      hint.append(counter);
      control.addEventListener("input", () => {
        counter.textContent = ` ${control.value.length} / ${q.maxLength}`;
      });
    }
    fields.set(name, { control, error, described: control, question: q });
    return el("div", { className: "field card" }, el("label", { htmlFor: id }, promptNodes(q, number)), hint, control, error);
  }
  const options =
    q.type === "scale"
      ? Array.from({ length: q.max - q.min + 1 }, (_, i) => ({ value: q.min + i, label: String(q.min + i) }))
      : q.options;
  const type = q.type === "multi_choice" ? "checkbox" : "radio";
  const inputs = options.map((option, index) =>
    el("input", { type, name, id: `${id}-${index}`, value: String(option.value) }),
  );
  const group = el(
    "fieldset",
    { className: `field card choices ${q.type}`, "aria-describedby": hint.id },
    el("legend", {}, promptNodes(q, number)),
    hint,
    el(
      "div",
      { className: "options" },
      inputs.map((input, index) => el("label", { className: "option", htmlFor: input.id }, input, el("span", { text: options[index].label }))),
    ),
    error,
  );
  fields.set(name, { control: inputs[0], error, described: group, question: q });
  return group;
}

function render(data) {
  questionnaire = data;
  document.getElementById("title").textContent = data.title;
  document.getElementById("description").textContent = data.description || "";
  fill(document.getElementById("questions"), data.questions.map((q, i) => renderQuestion(q, i + 1)));
  for (const name of ["email", "name", "consent"]) {
    const control = document.getElementById(name);
    const error = el("p", { className: "field-error", id: `${name}-error`, hidden: true });
    control.closest(".field").append(error);
    fields.set(name, { control, error, described: control });
  }
}

// ---------------------------------------------------------------- reading and checking

function answerOf(q) {
  const name = `answers.${q.id}`;
  if (q.type === "text") {
    const value = document.getElementById(`q-${q.id}`).value.trim();
    if (!value) return { missing: true };
    if (value.length < (q.minLength ?? 0)) return { error: `Please write at least ${q.minLength} characters (you have ${value.length}).` };
    if (value.length > q.maxLength) return { error: `Please keep it to ${q.maxLength} characters (you have ${value.length}).` };
    return { value };
  }
  if (q.type === "number") {
    const raw = document.getElementById(`q-${q.id}`).value.trim();
    const input = document.getElementById(`q-${q.id}`);
    if (!raw) return input.validity.badInput ? { error: "Please enter a number, such as 3 or 4.5." } : { missing: true };
    const value = Number(raw);
    if (!Number.isFinite(value)) return { error: "Please enter a number, such as 3 or 4.5." };
    if (value < q.min || value > q.max) return { error: `Please enter a number from ${q.min} to ${q.max}.` };
    return { value };
  }
  const checked = Array.from(form.querySelectorAll(`input[name="${CSS.escape(name)}"]:checked`), (input) => input.value);
  if (q.type === "scale") return checked.length ? { value: Number(checked[0]) } : { missing: true };
  if (q.type === "choice") return checked.length ? { value: checked[0] } : { missing: true };
  if (!checked.length) return { missing: true };
  const min = q.minSelections ?? 1;
  const max = q.maxSelections ?? q.options.length;
  if (checked.length < min) return { error: `Please choose at least ${min}.` };
  if (checked.length > max) return { error: `Please choose no more than ${max} (you chose ${checked.length}).` };
  return { value: checked };
}

function collect() {
  const errors = new Map();
  const answers = {};
  for (const q of questionnaire.questions) {
    const result = answerOf(q);
    if (result.error) errors.set(`answers.${q.id}`, result.error);
    else if (result.missing && q.required) errors.set(`answers.${q.id}`, "This question needs an answer.");
    else if (!result.missing) answers[q.id] = result.value;
  }
  const email = form.email.value.trim();
  if (!email) errors.set("email", "Please enter your email address, so we can send you your report.");
  else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.set("email", "Please enter an email address like name@example.com.");
  const name = form.elements.namedItem("name").value.trim();
  if (!form.consent.checked) errors.set("consent", "Please agree, so we can write your report.");
  const body = { email, answers, consent: true, questionnaireVersion: questionnaire.version };
  if (name) body.name = name;
  return { body, errors };
}

// ---------------------------------------------------------------- errors at their fields

function clearErrors() {
  for (const { error, described, control } of fields.values()) {
    error.hidden = true;
    error.textContent = "";
    setDescribedBy(described, error.id, false);
    described.classList.remove("invalid");
    if (control.type !== "radio" && control.type !== "checkbox") control.removeAttribute("aria-invalid");
    if (control.id === "consent") control.removeAttribute("aria-invalid");
  }
  summary.hidden = true;
  summary.replaceChildren();
  fill(document.getElementById("submit-problem"));
}

function setDescribedBy(node, id, on) {
  const ids = new Set((node.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
  if (on) ids.add(id);
  else ids.delete(id);
  node.setAttribute("aria-describedby", [...ids].join(" "));
}

function showErrors(errors) {
  const items = [];
  for (const [name, message] of errors) {
    const field = fields.get(name);
    if (!field) {
      items.push(el("li", { text: message }));
      continue;
    }
    field.error.textContent = message;
    field.error.hidden = false;
    setDescribedBy(field.described, field.error.id, true);
    field.described.classList.add("invalid");
    if (field.control.type !== "radio" && field.control.type !== "checkbox") field.control.setAttribute("aria-invalid", "true");
    if (field.control.id === "consent") field.control.setAttribute("aria-invalid", "true");
    const link = el("a", { href: `#${field.control.id}`, text: `${labelOf(name)}: ${message}` });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      field.control.focus();
      field.control.scrollIntoView({ block: "center" });
    });
    items.push(el("li", {}, link));
  }
  const count = errors.size;
  fill(summary, el("h2", { text: count === 1 ? "One answer needs your attention" : `${count} answers need your attention` }), el("ul", {}, items));
  summary.hidden = false;
  summary.focus();
  announce(count === 1 ? "One answer needs your attention." : `${count} answers need your attention.`);
}

function labelOf(name) {
  const field = fields.get(name);
  if (field && field.question) return `Question ${questionnaire.questions.indexOf(field.question) + 1}`;
  return { email: "Email address", name: "First name", consent: "Agreement" }[name] || name;
}

function serverErrors(details) {
  const errors = new Map();
  for (const { field, message } of details) {
    const name = field === "answers" || fields.has(field) ? field : field.split(".").slice(0, 2).join(".");
    if (!errors.has(name)) errors.set(name, message);
  }
  return errors;
}

// ---------------------------------------------------------------- submitting and checkout

async function submit(event) {
  event.preventDefault();
  if (submitButton.disabled) return;
  clearErrors();
  const { body, errors } = collect();
  if (errors.size) {
    showErrors(errors);
    return;
  }
  const text = JSON.stringify(body);
  if (!attempt || attempt.body !== text) attempt = { body: text, key: newIdempotencyKey() };
  busy(true);
  try {
    const { data } = await api("POST", "/api/reckoning", { json: text, headers: { "Idempotency-Key": attempt.key } });
    rememberToken(data.token);
    await checkout(data.token);
  } catch (error) {
    if (error.code === "VALIDATION_ERROR" && error.details.length) {
      showErrors(serverErrors(error.details));
    } else {
      const panel = problemPanel(error, { title: "Your answers were not sent", retry: () => form.requestSubmit() });
      fill(document.getElementById("submit-problem"), panel);
      announce("Your answers were not sent.");
    }
  } finally {
    busy(false);
  }
}

async function checkout(token) {
  showState("redirecting");
  announce("Your answers are saved. Opening the payment page.");
  const problem = document.getElementById("checkout-problem");
  fill(problem);
  try {
    await pay(token);
  } catch (error) {
    fill(problem, problemPanel(error, { title: "The payment page did not open", retry: () => checkout(token) }));
    announce("The payment page did not open.");
  }
}

function busy(on) {
  submitButton.disabled = on;
  submitButton.textContent = on ? "Saving your answers…" : "Continue to payment";
}

async function load() {
  try {
    const { data } = await api("GET", "/api/questionnaire");
    render(data);
    showState("form");
  } catch (error) {
    fill(document.getElementById("load-problem"), problemPanel(error, { title: "The questionnaire did not load", retry: () => location.reload() }));
    showState("problem");
  }
}

form.addEventListener("submit", submit);
load();
