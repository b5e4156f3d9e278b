// Keel's own script: confirmations, live-refreshing fragments and the playground's streaming. No libraries.
"use strict";

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

function refresh(element) {
  const every = Number(element.dataset.every || 2000);
  const tick = async () => {
    if (!element.isConnected || element.dataset.paused === "true") return setTimeout(tick, every);
    try {
      const response = await fetch(element.dataset.refresh, { credentials: "same-origin" });
      if (response.ok) {
        element.innerHTML = await response.text();
        if (response.headers.get("X-Keel-Done") === "1") return;
      }
    } catch (error) { /* the next tick tries again */ }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

async function stream(column, body, csrf) {
  const output = column.querySelector(".answer");
  const meta = column.querySelector(".meta");
  output.textContent = "";
  meta.textContent = "…";
  const started = performance.now();
  const response = await fetch("/ui/api/chat", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Keel-CSRF": csrf },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) {
    const problem = await response.json().catch(() => ({}));
    output.textContent = (problem.error && problem.error.message) || problem.detail || `HTTP ${response.status}`;
    output.classList.add("error");
    meta.textContent = "";
    return;
  }
  output.classList.remove("error");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = "", usage = null, model = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) {
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
      const chunk = JSON.parse(line.slice(6));
      if (chunk.error) { output.textContent += `\n[${chunk.error.message}]`; continue; }
      model = chunk.model || model;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices || []) output.textContent += (choice.delta && choice.delta.content) || "";
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  meta.textContent = `${model} · ${seconds} s` + (usage ? ` · ${usage.prompt_tokens}+${usage.completion_tokens} tokens` : "");
}

function playground(form) {
  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.name === "save") return;  // saving posts the form normally
    event.preventDefault();
    const data = new FormData(form);
    const messages = [];
    if (data.get("system")) messages.push({ role: "system", content: data.get("system") });
    messages.push({ role: "user", content: data.get("user") });
    for (const column of form.querySelectorAll(".column")) {
      const target = column.querySelector("select").value;
      if (!target) continue;
      const body = { messages, max_tokens: Number(data.get("max_tokens") || 256), temperature: Number(data.get("temperature") || 0) };
      if (target.startsWith("prompt:")) {
        body.prompt = target.slice(7);
        try { body.variables = data.get("variables") ? JSON.parse(data.get("variables")) : { input: data.get("user") }; }
        catch (error) { column.querySelector(".answer").textContent = `variables are not JSON: ${error.message}`; continue; }
        delete body.messages;
      }
      else body.model = target;
      stream(column, body, data.get("csrf"));
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(refresh);
  document.querySelectorAll("form.playground").forEach(playground);
  const tail = document.getElementById("live-tail");
  if (tail) tail.addEventListener("change", () => {
    const rows = document.getElementById("trace-rows");
    rows.dataset.paused = String(!tail.checked);
  });
});
