// Talking to the service, and saying how it went in a status line.
//
// API keys: when the service has AUDIOVAE_API_KEYS set, every call needs
// "Authorization: Bearer <key>". The page asks for the key once (the form #key-form, shown
// on the first 401) and keeps it in this browser's localStorage, never in the page's URL.

const KEY_ITEM = "audiovae-api-key";

export function apiKey() {
  try {
    return localStorage.getItem(KEY_ITEM) || "";
  } catch (_) {
    return ""; // storage disabled: the page works while the service is open
  }
}

// Show the key form (the service said 401), with what it said.
function askForKey(detail) {
  const form = document.getElementById("key-form");
  if (!form) return;
  form.hidden = false;
  document.getElementById("key-status").textContent = detail;
}

export function setupKey() {
  const form = document.getElementById("key-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = document.getElementById("api-key").value.trim();
    try {
      if (key) localStorage.setItem(KEY_ITEM, key);
      else localStorage.removeItem(KEY_ITEM);
    } catch (_) {
      /* nothing to keep it in: it lasts as long as this page */
    }
    window.location.reload();
  });
}

// Throws an Error whose message is the service's problem `detail` when there is one.
export async function request(url, options = {}) {
  const key = apiKey();
  const headers = new Headers(options.headers || {});
  if (key) headers.set("Authorization", `Bearer ${key}`);
  let response;
  try {
    response = await fetch(url, { ...options, headers });
  } catch (err) {
    throw new Error(`the service could not be reached (${err.message})`);
  }
  if (response.ok) return response;
  let detail = `${response.status} ${response.statusText}`;
  const type = response.headers.get("content-type") || "";
  try {
    if (type.includes("json")) {
      const body = await response.json();
      if (body && body.detail) detail = `${body.detail} (HTTP ${response.status})`;
    } else {
      const text = (await response.text()).trim();
      if (text) detail = `${text.slice(0, 300)} (HTTP ${response.status})`;
    }
  } catch (_) {
    /* keep the status line */
  }
  if (response.status === 401) askForKey(detail);
  const retry = response.headers.get("retry-after");
  if (retry) detail += `; try again in ${retry} s`;
  throw new Error(detail);
}

// A polite status, or an alert when it is an error.
export function setStatus(el, text, isError) {
  el.textContent = text;
  el.classList.toggle("error", Boolean(isError));
  el.setAttribute("role", isError ? "alert" : "status");
}
