// Where the report token lives in the browser (web/README.md says why):
// - in the report page's URL fragment (/report#<token>), which the browser never sends to a server nor in a Referer;
// - between "submit" and the return from checkout, in this tab's sessionStorage (gone when the tab closes),
//   because the checkout return URL carries only Stripe's session id, never the token.

const KEY = "reckoning.token";
const SHAPE = /^[A-Za-z0-9_-]{20,100}$/;

export function rememberToken(token) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage refused (private mode quotas): the emailed link still opens the report.
  }
}

export function rememberedToken() {
  try {
    const token = sessionStorage.getItem(KEY);
    return token && SHAPE.test(token) ? token : null;
  } catch {
    return null;
  }
}

export function forgetToken() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

/** The token in this page's fragment (#<token>, or #t=<token>), or null. */
export function tokenFromFragment(hash = location.hash) {
  const raw = decodeURIComponent(hash.replace(/^#/, "").replace(/^t=/, ""));
  return SHAPE.test(raw) ? raw : null;
}

export function reportPath(token) {
  return `/report#${token}`;
}
