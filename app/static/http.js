// Talking to the service, and saying how it went in a status line.

// Throws an Error whose message is the service's problem `detail` when there is one.
export async function request(url, options) {
  let response;
  try {
    response = await fetch(url, options);
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
