// The console's few lines of script. Every page works without them; they only make it livelier:
// times in the reader's own zone, new activity on a customer page without a reload, a decision's
// progress while the resolver applies it, and a question before a destructive click.
"use strict";

function localTimes(root) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const el of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) {
      el.title = el.textContent;
      el.textContent = format.format(moment);
    }
  }
}

async function poll(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { "X-Console-Poll": "1" } });
  if (response.status === 401) {
    window.location.reload(); // signed out: the page sends us to the log-in form
    return null;
  }
  return response;
}

// A customer page: ask every few seconds whether the timeline changed; swap in the new one.
function liveCustomer(region) {
  const url = region.dataset.liveUrl;
  if (!url) return;
  setInterval(async () => {
    const response = await poll(`${url}?v=${encodeURIComponent(region.dataset.version)}`);
    if (!response || response.status !== 200) return;
    const body = await response.json();
    if (body.redirect) {
      window.location.assign(body.redirect);
      return;
    }
    // Never swap a form out from under the admin's typing: the next tick tries again.
    const typing = document.activeElement;
    if (typing && region.contains(typing) && typing.matches("input, textarea, select")) return;
    region.innerHTML = body.html;
    region.dataset.version = body.version;
    wire(region);
  }, 3000);
}

// A decision's page: ask until the resolver applied it, or refused it (then say why).
function commandProgress(box) {
  if (box.dataset.applied !== "no") return;
  const timer = setInterval(async () => {
    const response = await poll(box.dataset.statusUrl);
    if (!response || response.status !== 200) return;
    const body = await response.json();
    if (!body.applied && !body.refused) return;
    clearInterval(timer);
    const state = box.querySelector("#command-state");
    box.querySelector("#command-help").textContent = "";
    if (body.refused) {
      box.dataset.applied = "refused";
      state.textContent = "Refused by the resolver: " + body.refused;
      state.className = "state refused";
      return;
    }
    box.dataset.applied = "yes";
    state.textContent = "Applied by the resolver.";
    state.className = "state applied";
    const list = box.querySelector("#command-events");
    for (const event of body.events) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = event;
      item.append(code);
      list.append(item);
    }
  }, 1000);
}

function wire(root) {
  localTimes(root);
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  wire(document);
  const live = document.getElementById("live");
  if (live) liveCustomer(live);
  const command = document.getElementById("command");
  if (command) commandProgress(command);
});
