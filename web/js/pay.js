// Opening Stripe Checkout for a saved reckoning: POST /api/checkout {token}, then the browser goes to its URL.
// One Idempotency-Key per page, so a retry after a lost answer gets the same session back.

import { api, newIdempotencyKey } from "./api.js";
import { reportPath } from "./token.js";

let key = null;

/** Go to the payment page; resolves only when it could not (rejects with the ApiError). Paid already: the report. */
export async function pay(token) {
  key ??= newIdempotencyKey();
  try {
    const { data } = await api("POST", "/api/checkout", { json: { token }, headers: { "Idempotency-Key": key } });
    location.assign(data.checkoutUrl);
  } catch (error) {
    if (error.code !== "CONFLICT") throw error;
    location.assign(reportPath(token)); // paid meanwhile: the report page knows the rest
  }
}
