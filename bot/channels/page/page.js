// resbot's page: the chat pane and the links into the resolution.
// Everything a user types or the server answers is put on the page with textContent, never as HTML.
"use strict";

(() => {
  const form = document.getElementById("ask");
  if (!form) return; // the chat is switched off on this server
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const CITATION = /^(?:(?:OP|PP|FN)\d{1,3}(?:\([a-z]\))?|META)$/;
  const STORE = "resbot.conversation";
  let conversation = sessionStorage.getItem(STORE);
  let busy = false;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const citationLink = (id, label) => {
    if (!CITATION.test(id) || !document.getElementById(id)) return el("span", "", id);
    const link = el("a", "cite", id);
    link.href = "#" + id;
    if (label) link.title = label;
    return link;
  };

  const webLink = (text, url) => {
    if (!/^https?:\/\/[^\s]+$/.test(url)) return el("span", "", text);
    const link = el("a", "", text);
    link.href = url;
    link.rel = "noopener noreferrer";
    return link;
  };

  const add = (node) => {
    log.append(node);
    log.scrollTop = log.scrollHeight;
  };

  const showAnswer = (data, asked) => {
    const box = el("div", "msg bot");
    box.append(el("p", "text", data.text || data.answer || ""));
    if (Array.isArray(data.items) && data.items.length) {
      const list = el("ul");
      for (const item of data.items) {
        const li = el("li", "", item.text);
        if (item.cite && item.cite !== "META") li.append(" (", citationLink(item.cite), ")");
        list.append(li);
      }
      box.append(list);
    }
    const cites = Array.isArray(data.citations) ? data.citations : [];
    const quote = cites.length ? (cites[0].quote || "").trim() : "";
    if (quote && quote !== data.text) box.append(el("blockquote", "", "“" + quote + "”"));
    if (cites.length) {
      const sources = el("p", "sources", "Sources: ");
      for (const cite of cites) sources.append(citationLink(cite.id, cite.label), " ");
      box.append(sources);
    }
    const links = data.links && typeof data.links === "object" ? Object.entries(data.links) : [];
    if (links.length) {
      const docs = el("p", "sources", "Documents: ");
      for (const [symbol, url] of links) docs.append(webLink(symbol, String(url)), " ");
      box.append(docs);
    }
    box.append(feedbackRow(asked));
    add(box);
  };

  // "Not helpful" under each answer: POST /api/feedback once; the button stays disabled once it went.
  const feedbackRow = (question) => {
    const row = el("p", "feedback");
    const button = el("button", "", "Not helpful");
    button.type = "button";
    button.setAttribute("aria-label", `Not helpful: the answer to “${question.slice(0, 80)}”`);
    const note = el("span", "noted");
    note.tabIndex = -1;
    button.addEventListener("click", async () => {
      button.disabled = true;
      note.textContent = "Sending…";
      note.focus();
      try {
        const response = await fetch("/api/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify({ question, helpful: false }),
        });
        if (!response.ok) throw new Error(String(response.status));
        note.textContent = "Thanks — noted";
      } catch (_) {
        note.textContent = "Could not send that; try again.";
        button.disabled = false;
        button.focus();
      }
    });
    row.append(button, note);
    return row;
  };

  const showError = (message) => add(el("div", "msg error", message));

  const errorText = async (response) => {
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After") || "a few";
      return `Too many questions for now: please wait ${wait} seconds.`;
    }
    try {
      const data = await response.json();
      if (data && typeof data.error === "string") return data.error;
    } catch (_) { /* not JSON */ }
    return `The server could not answer (HTTP ${response.status}).`;
  };

  const ask = async (question) => {
    question = question.trim();
    if (!question || busy) return;
    busy = true;
    send.disabled = true;
    log.setAttribute("aria-busy", "true");
    add(el("div", "msg you", question));
    status.textContent = "Looking it up…";
    try {
      const response = await fetch("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ question, conversation }),
      });
      if (!response.ok) {
        showError(await errorText(response));
      } else {
        const data = await response.json();
        if (typeof data.conversation === "string") {
          conversation = data.conversation;
          sessionStorage.setItem(STORE, conversation);
        }
        showAnswer(data, question);
      }
    } catch (_) {
      showError("Could not reach the server. Check the connection and try again.");
    } finally {
      busy = false;
      send.disabled = false;
      log.removeAttribute("aria-busy");
      status.textContent = "";
    }
  };

  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value;
    input.value = "";
    ask(question);
    input.focus();
  });
  for (const button of form.querySelectorAll(".example")) {
    button.addEventListener("click", () => ask(button.textContent));
  }

  // Following a link into the text: scroll the paragraph into view, highlight it, move focus to it.
  let flashed = null;
  const reveal = (id, scroll) => {
    const target = id && document.getElementById(id);
    if (!target || !target.classList.contains("para") && id !== "META") return;
    if (flashed) flashed.classList.remove("flash");
    target.classList.add("flash");
    flashed = target;
    if (scroll) target.scrollIntoView({ block: "start" });
    if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
    target.focus({ preventScroll: true });
  };
  const hashId = () => decodeURIComponent(location.hash.slice(1));
  window.addEventListener("hashchange", () => reveal(hashId(), false));
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#"]');
    if (link && link.hash === location.hash) {
      event.preventDefault(); // the same link again: no hashchange, so show it here
      reveal(hashId(), true);
    }
  });

  // Each paragraph: ask about it, copy a link to it.
  const copyLink = async (id) => {
    const url = location.origin + location.pathname + "#" + id;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = `Link to ${id} copied.`;
    } catch (_) {
      history.replaceState(null, "", "#" + id);
      status.textContent = `Copy the link to ${id} from the address bar.`;
    }
  };
  for (const para of document.querySelectorAll(".doc .para[id]")) {
    const id = para.id;
    const tools = el("span", "tools");
    const about = el("button", "", "Ask about this");
    about.type = "button";
    about.setAttribute("aria-label", `Ask about ${id}`);
    about.addEventListener("click", () => { ask(`What does ${id} say?`); input.focus(); });
    const copy = el("button", "", "Copy link");
    copy.type = "button";
    copy.setAttribute("aria-label", `Copy a link to ${id}`);
    copy.addEventListener("click", () => copyLink(id));
    tools.append(about, copy);
    para.querySelector(":scope > p").append(tools);
  }

  // "/" anywhere outside a text field jumps to the question box.
  document.addEventListener("keydown", (event) => {
    const typing = /^(?:INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });

  // Deep links: /#OP5 highlights (CSS :target does it without JavaScript too); /?q=... asks at once.
  if (location.hash) reveal(hashId(), false);
  const asked = new URLSearchParams(location.search).get("q");
  if (asked && asked.trim()) ask(asked.slice(0, Number(input.maxLength) || 1000));
})();
