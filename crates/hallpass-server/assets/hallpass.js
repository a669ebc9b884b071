// hallpass's built-in pages: posts the forms as JSON to /api/auth (same origin, with the session
// cookie) and shows the server's message next to the field it is about. No framework, no inline
// code: everything the script needs is in data- attributes the server rendered.
(function () {
  "use strict";

  var API = "/api/auth";

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function one(selector, root) {
    return (root || document).querySelector(selector);
  }

  // POST a JSON body; resolves to {ok, status, data} or {ok: false, status, error: {message, code}}.
  function post(path, body) {
    return fetch(API + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body || {}),
    }).then(
      function (res) {
        return res.json().then(
          function (data) { return answer(res, data); },
          function () { return answer(res, null); }
        );
      },
      function () {
        return {
          ok: false,
          status: 0,
          error: { message: "Could not reach the server. Check your connection and try again." },
        };
      }
    );
  }

  function answer(res, data) {
    if (res.ok) return { ok: true, status: res.status, data: data };
    var error = data && typeof data.message === "string"
      ? data
      : { message: "Something went wrong (" + res.status + "). Please try again." };
    if (res.status === 429) error = { message: error.message, code: "TOO_MANY_REQUESTS" };
    return { ok: false, status: res.status, error: error };
  }

  // ---- reading a form ----

  // The body of a form: its named hidden inputs (a token, where a link leads), then every
  // [data-hp-field] by its data-kind, except the ones only checked here (data-hp-local: a repeated
  // password). `omitEmpty` leaves out unanswered questions (sign-up); otherwise they are sent as
  // null, which clears them (profile).
  function collect(form, omitEmpty) {
    var body = {};
    all("input[type=hidden][name]", form).forEach(function (input) {
      body[input.name] = input.value;
    });
    all("[data-hp-field]", form).forEach(function (field) {
      if (field.hasAttribute("data-hp-local")) return;
      var key = field.getAttribute("data-hp-field");
      var kind = field.getAttribute("data-kind");
      var required = field.hasAttribute("data-required");
      var value;
      if (kind === "boolean") {
        var box = one("input[type=checkbox]", field);
        value = !!(box && box.checked);
      } else if (kind === "enum") {
        var radio = one("input[type=radio]:checked", field);
        var select = one("select", field);
        value = radio ? radio.value : select ? select.value : "";
        if (value === "") value = null;
      } else {
        var input = one("input, textarea", field);
        var raw = input ? input.value : "";
        if (kind === "text") {
          value = input && input.type === "password" ? raw : raw.trim();
        } else if (kind === "number") {
          var t = raw.trim();
          value = t === "" ? null : /^-?\d+$/.test(t) ? Number(t) : t;
        } else {
          value = raw.trim() === "" ? (required ? "" : null) : raw.trim();
        }
      }
      if (value === null && omitEmpty) return;
      body[key] = value;
    });
    return body;
  }

  // ---- showing errors ----

  function describedBy(control, id, add) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    ids = ids.filter(function (x) { return x !== id; });
    if (add) ids.push(id);
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function clearField(field) {
    var error = one("[data-hp-error]", field);
    if (!error || error.hidden) return;
    error.hidden = true;
    error.textContent = "";
    field.classList.remove("has-error");
    all("input, select, textarea", field).forEach(function (c) {
      c.removeAttribute("aria-invalid");
      describedBy(c, error.id, false);
    });
  }

  function clearErrors(scope) {
    all("[data-hp-field]", scope).forEach(clearField);
    all("[data-hp-alert]", scope).forEach(function (a) { a.hidden = true; a.textContent = ""; });
    all("[data-hp-live]", scope).forEach(function (l) { l.textContent = ""; });
  }

  // Marks a field invalid with a message; returns the control to focus.
  function markField(field, message) {
    var error = one("[data-hp-error]", field);
    if (!error) return null;
    error.textContent = message;
    error.hidden = false;
    field.classList.add("has-error");
    var controls = all("input, select, textarea", field);
    controls.forEach(function (c) {
      c.setAttribute("aria-invalid", "true");
      describedBy(c, error.id, true);
    });
    return one("input:checked", field) || controls[0] || null;
  }

  // A server message may hold several zod-style issues ("[body.email] …; [body.password] …").
  function issues(error) {
    var message = String(error.message || "");
    var parts = message.indexOf("[body") === 0 ? message.split(/;\s+(?=\[body)/) : [message];
    return parts.map(function (m) { return { code: error.code || "", message: m }; });
  }

  // Which field an issue is about, by Better Auth's codes and hallpass's messages, which start
  // with the field's key ("hardware_background must be one of: …").
  function fieldKey(form, issue) {
    var exists = function (key) {
      return key && one('[data-hp-field="' + key + '"]', form) ? key : null;
    };
    var code = issue.code;
    var zod = /^\[body\.([A-Za-z0-9_]+)\]/.exec(issue.message);
    if (zod) return exists(zod[1]);
    if (code === "INVALID_EMAIL_OR_PASSWORD") return null;
    if (!code && /^email is the same/i.test(issue.message)) return exists("newEmail");
    if (code === "VALIDATION_ERROR" || code === "MISSING_FIELD" || code === "FIELD_NOT_ALLOWED") {
      var lead = /^([A-Za-z_][A-Za-z0-9_]*)\b/.exec(issue.message);
      return lead ? exists(lead[1]) : null;
    }
    if (code.indexOf("PASSWORD") !== -1) return exists("password") || exists("newPassword");
    if (code.indexOf("EMAIL") !== -1 || code.indexOf("USER_ALREADY_EXISTS") === 0) {
      return exists("email") || exists("newEmail");
    }
    return null;
  }

  // The message as a person reads it beside the field: without the zod path ("[body.email] "),
  // and "This field" for a leading key ("years_coding must be a whole number").
  function readable(message, key) {
    var text = message.replace(/^\[body(\.[A-Za-z0-9_]+)?\]\s*/, "");
    if (key && text.indexOf(key + " ") === 0) text = "This field " + text.slice(key.length + 1);
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function showAlert(scope, message) {
    var alert = one("[data-hp-alert]", scope);
    if (!alert) return null;
    alert.textContent = message;
    alert.hidden = false;
    return alert;
  }

  function showErrors(form, error) {
    clearErrors(form);
    var focus = null;
    var general = [];
    var spoken = [];
    issues(error).forEach(function (issue) {
      var key = fieldKey(form, issue);
      var text = readable(issue.message, key);
      var field = key ? one('[data-hp-field="' + key + '"]', form) : null;
      var control = field ? markField(field, text) : null;
      if (control) {
        focus = focus || control;
        spoken.push(text);
      } else {
        general.push(text);
      }
    });
    var alert = general.length ? showAlert(form, general.join(" ")) : null;
    var live = one("[data-hp-live]", form);
    if (live && spoken.length) live.textContent = spoken.join(". ");
    if (focus) focus.focus();
    else if (alert) alert.focus();
  }

  // What the browser can check before asking the server: a field that needs an answer
  // (data-hp-ask says what to ask for) and a repeated password (data-hp-match names the input it
  // must equal). Returns false, with the fields marked, when something is missing.
  function precheck(form) {
    var problems = [];
    all("[data-hp-field]", form).forEach(function (field) {
      var input = one("input[data-hp-ask], input[data-hp-match]", field);
      if (!input) return;
      var ask = input.getAttribute("data-hp-ask");
      var other = input.hasAttribute("data-hp-match")
        ? document.getElementById(input.getAttribute("data-hp-match"))
        : null;
      if (ask && input.value.trim() === "") problems.push({ field: field, message: ask });
      else if (other && input.value !== other.value) {
        problems.push({ field: field, message: "The passwords don’t match. Type the same password twice." });
      }
    });
    if (!problems.length) return true;
    clearErrors(form);
    var focus = null;
    problems.forEach(function (p) {
      var control = markField(p.field, p.message);
      focus = focus || control;
    });
    var live = one("[data-hp-live]", form);
    if (live) live.textContent = problems.map(function (p) { return p.message; }).join(" ");
    if (focus) focus.focus();
    return false;
  }

  // "{email}" in a message, from the values sent.
  function fill(message, values) {
    return message.replace(/\{([A-Za-z]+)\}/g, function (whole, key) {
      var v = values && values[key];
      return typeof v === "string" && v ? v : whole === "{email}" ? "your address" : "";
    });
  }

  // ---- steps: a page in several states (the form, then "check your email") ----

  // Shows the [data-hp-step] called `name` in the [data-hp-steps] around `from`, hides the
  // others, writes the values sent into its [data-hp-echo] places and the email into its
  // buttons, and moves focus to its heading so screen readers read the new state.
  function showStep(from, name, values) {
    var group = from.closest("[data-hp-steps]");
    if (!group) return false;
    var shown = null;
    all("[data-hp-step]", group).forEach(function (step) {
      var on = step.getAttribute("data-hp-step") === name;
      step.hidden = !on;
      if (on) shown = step;
    });
    if (!shown) return false;
    echo(shown, values);
    var heading = one("h1, h2", shown);
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
    return true;
  }

  function echo(scope, values) {
    values = values || {};
    all("[data-hp-echo]", scope).forEach(function (el) {
      var v = values[el.getAttribute("data-hp-echo")];
      if (typeof v === "string" && v.trim()) el.textContent = v.trim();
    });
    if (typeof values.email === "string" && values.email.trim()) {
      all("[data-email]", scope).forEach(function (el) {
        el.setAttribute("data-email", values.email.trim());
      });
    }
  }

  // Sign-in refused for an address not yet verified: the panel that offers a new link.
  function showUnverified(form, body) {
    var panel = one("[data-hp-unverified]", form.closest(".card") || document);
    if (!panel) return false;
    clearErrors(panel);
    echo(panel, body);
    panel.hidden = false;
    panel.focus();
    return true;
  }

  // ---- busy buttons ----

  function busy(button, on) {
    if (!button) return;
    if (on) {
      button.setAttribute("data-label", button.textContent);
      if (button.getAttribute("data-busy")) button.textContent = button.getAttribute("data-busy");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    } else {
      if (button.hasAttribute("data-label")) button.textContent = button.getAttribute("data-label");
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  function say(scope, message) {
    var status = one("[data-hp-status]", scope);
    if (!status) return;
    status.textContent = "";
    // A fresh text node after a tick, so screen readers announce a repeated message again.
    setTimeout(function () { status.textContent = message; }, 50);
  }

  function go(next) {
    if (next === "reload") window.location.reload();
    else window.location.assign(next || "/profile");
  }

  // ---- forms ----

  function onSubmit(event) {
    var form = event.currentTarget;
    event.preventDefault();
    var kind = form.getAttribute("data-hp-form");
    var button = one("button[type=submit]", form);
    if (button && button.disabled) return;
    if (!precheck(form)) return;
    var body = collect(form, kind !== "profile");
    clearErrors(form);
    var unverified = one("[data-hp-unverified]", form.closest(".card") || document);
    if (unverified) unverified.hidden = true;
    form.setAttribute("aria-busy", "true");
    busy(button, true);
    post(form.getAttribute("data-endpoint"), body).then(function (result) {
      form.removeAttribute("aria-busy");
      if (result.ok) succeeded(form, kind, body, result.data || {}, button);
      else failed(form, kind, body, result, button);
    });
  }

  function succeeded(form, kind, body, data, button) {
    if (kind === "profile") {
      busy(button, false);
      var shown = one("[data-hp-display-name]");
      if (shown && typeof body.name === "string") shown.textContent = body.name || shown.textContent;
      say(form, "Your profile is saved.");
      return;
    }
    // Sign-up with verification required opens no session: the address must be confirmed first.
    if (kind === "sign-up" && data.token === null && showStep(form, "verify", body)) {
      busy(button, false);
      return;
    }
    var step = form.getAttribute("data-hp-done-step");
    if (step && showStep(form, step, body)) {
      busy(button, false);
      return;
    }
    var message = form.getAttribute("data-hp-done-say");
    if (message) {
      busy(button, false);
      form.reset();
      say(form, fill(message, body));
      return;
    }
    // Keep the button busy while the next page loads.
    go(form.getAttribute("data-next"));
  }

  function failed(form, kind, body, result, button) {
    busy(button, false);
    var code = result.error.code || "";
    if (result.status === 401 && (kind === "profile" || form.hasAttribute("data-hp-session"))) {
      go("/sign-in?callbackURL=%2Fprofile");
      return;
    }
    var invalid = form.getAttribute("data-hp-invalid-step");
    if (invalid && (code === "INVALID_TOKEN" || code === "TOKEN_EXPIRED") && showStep(form, invalid, body)) {
      return;
    }
    if (code === "EMAIL_NOT_VERIFIED" && showUnverified(form, body)) return;
    showErrors(form, result.error);
  }

  // ---- buttons: sign out, revoke ----

  var ACTIONS = {
    "sign-out": function () { return { path: "/sign-out", body: {} }; },
    "revoke-session": function (el) {
      return { path: "/revoke-session", body: { token: el.getAttribute("data-token") } };
    },
    "revoke-other-sessions": function () { return { path: "/revoke-other-sessions", body: {} }; },
    // A link that verifies the address in data-email (the session's one when signed in).
    "send-verification": function (el) {
      var body = { email: el.getAttribute("data-email") || "" };
      if (el.getAttribute("data-callback")) body.callbackURL = el.getAttribute("data-callback");
      return { path: "/send-verification-email", body: body };
    },
  };

  function afterAction(name, el, scope) {
    if (name === "sign-out") {
      go(el.getAttribute("data-next") || "/sign-in");
      return;
    }
    if (name === "send-verification") {
      var message = el.getAttribute("data-say") || "We sent a new link to {email}.";
      say(scope, fill(message, { email: el.getAttribute("data-email") || "" }));
      return;
    }
    var removed = name === "revoke-session"
      ? [el.closest("li")]
      : all("[data-hp-other]", scope);
    removed.forEach(function (li) { if (li) li.remove(); });
    if (!one("[data-hp-other]", scope)) {
      var rest = one('[data-hp-action="revoke-other-sessions"]', scope);
      if (rest) rest.hidden = true;
    }
    say(scope, name === "revoke-session" ? "That device is signed out." : "Every other device is signed out.");
    var heading = one("h2", scope);
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  function onAction(event) {
    var el = event.currentTarget;
    var name = el.getAttribute("data-hp-action");
    var make = ACTIONS[name];
    if (!make) return;
    event.preventDefault();
    if (el.disabled) return;
    var scope = el.closest("[data-hp-scope], section, .card") || document;
    var request = make(el);
    clearErrors(scope);
    busy(el, true);
    post(request.path, request.body).then(function (result) {
      if (result.ok) {
        if (name !== "sign-out") busy(el, false);
        afterAction(name, el, scope);
        return;
      }
      busy(el, false);
      if (result.status === 401) {
        go("/sign-in?callbackURL=%2Fprofile");
        return;
      }
      var alert = showAlert(scope, readable(result.error.message));
      if (alert) alert.focus();
    });
  }

  // ---- show / hide password ----

  function onReveal(event) {
    var button = event.currentTarget;
    var input = document.getElementById(button.getAttribute("data-hp-reveal"));
    if (!input) return;
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    button.textContent = show ? "Hide" : "Show";
    button.setAttribute("aria-pressed", show ? "true" : "false");
    button.setAttribute("aria-label", show ? "Hide password" : "Show password");
  }

  // ---- taking an answer back (optional questions on the profile) ----

  function syncClear(field) {
    var clear = one("[data-hp-clear]", field);
    if (clear) clear.hidden = !one("input[type=radio]:checked", field);
  }

  function onClear(event) {
    var field = event.currentTarget.closest("[data-hp-field]");
    all("input[type=radio]", field).forEach(function (r) { r.checked = false; });
    syncClear(field);
    clearField(field);
    var first = one("input[type=radio]", field);
    if (first) first.focus();
  }

  function start() {
    all("form[data-hp-form]").forEach(function (form) {
      form.addEventListener("submit", onSubmit);
      // An answer that changes takes its error away.
      all("[data-hp-field]", form).forEach(function (field) {
        field.addEventListener("input", function () { clearField(field); });
        field.addEventListener("change", function () { clearField(field); });
      });
    });
    all("[data-hp-action]").forEach(function (el) { el.addEventListener("click", onAction); });
    all("[data-hp-clear]").forEach(function (button) {
      var field = button.closest("[data-hp-field]");
      button.addEventListener("click", onClear);
      field.addEventListener("change", function () { syncClear(field); });
      syncClear(field);
    });
    all("[data-hp-reveal]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", onReveal);
    });
    document.documentElement.classList.add("js");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
