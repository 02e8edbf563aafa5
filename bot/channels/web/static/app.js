// The chat page: every text from the essays or the reader is inserted with textContent,
// never as HTML. Interface strings come from /api/texts (bot/messages.py), in the browser's
// language or the one chosen. The session id lives in sessionStorage (no cookies) and lets
// "Sources" cite this page's last answer.
"use strict";

const state = { lang: "en", texts: {}, session: sessionId() };

function sessionId() {
  let id = sessionStorage.getItem("essaybot-session");
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem("essaybot-session", id);
  }
  return id;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function getJson(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function loadTexts(lang) {
  state.lang = lang;
  state.texts = await getJson(`/api/texts?lang=${lang}`);
  document.documentElement.lang = lang;
  const t = state.texts;
  document.getElementById("question-label").textContent = t.ask_label;
  document.getElementById("question").placeholder = t.ask_label;
  document.getElementById("send").textContent = t.send;
  document.getElementById("essays-button").textContent = t.essays_header;
  document.getElementById("lang-button").textContent = t.switch_language;
}

// The quote with its answering sentences marked: offsets are the essay's, so shift them.
function markedQuote(quote) {
  const block = el("blockquote");
  let at = 0;
  const spans = (quote.highlights || []).map(([a, b]) => [a - quote.start, b - quote.start]);
  const whole = spans.length === 1 && spans[0][0] <= 0 && spans[0][1] >= quote.text.length;
  for (const [a, b] of whole ? [] : spans) {
    block.append(quote.text.slice(at, a), el("mark", "", quote.text.slice(a, b)));
    at = b;
  }
  block.append(quote.text.slice(at));
  return block;
}

function citationText(quote) {
  const t = state.texts;
  const range = quote.paragraph === quote.last_paragraph
    ? t.paragraph.replace("{paragraph}", quote.paragraph)
    : t.paragraphs.replace("{first}", quote.paragraph).replace("{last}", quote.last_paragraph);
  return `— ${quote.title}, ${range}`;
}

function renderAnswer(answer, into) {
  const t = state.texts;
  if (answer.status === "not_found") {
    into.append(el("p", "notice", t.not_found));
    if (answer.closest.length) into.append(el("p", "notice", `${t.closest} ${answer.closest.join("; ")}`));
    return;
  }
  if (answer.status === "related") into.append(el("p", "notice", t.related));
  answer.quotes.forEach((quote, i) => {
    const item = el("section", "quote");
    item.append(el("span", "number", `[${i + 1}]`), markedQuote(quote), el("p", "citation", citationText(quote)));
    if (quote.translation) {
      item.append(el("p", "label", t.translation_label), el("blockquote", "translation", quote.translation.text));
    }
    into.append(item);
  });
  const button = el("button", "", t.sources);
  button.type = "button";
  button.addEventListener("click", () => showSources(into, button));
  into.append(button);
}

async function showSources(into, button) {
  button.disabled = true;
  const found = await getJson(`/api/source?session=${state.session}`);
  if (found.message) { into.append(el("p", "notice", found.message)); return; }
  for (const source of found.sources) {
    const box = el("div", "sources");
    box.append(el("p", "citation", `[${source.n}] ${source.citation}`));
    const text = el("p");
    let at = 0;
    for (const [a, b] of source.highlights) {
      const start = a - source.offset, end = b - source.offset;
      text.append(source.paragraphs.slice(at, start), el("mark", "", source.paragraphs.slice(start, end)));
      at = end;
    }
    text.append(source.paragraphs.slice(at));
    box.append(text);
    if (source.translation) box.append(el("p", "label", state.texts.translation_label), el("p", "translation", source.translation));
    into.append(box);
  }
}

async function ask(question) {
  const log = document.getElementById("log");
  const turn = el("article");
  turn.append(el("p", "question", question));
  log.append(turn);
  try {
    const answer = await getJson("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question, session: state.session }),
    });
    renderAnswer(answer, turn);
  } catch (error) {
    turn.append(el("p", "notice", error.message));
  }
  turn.scrollIntoView({ block: "end" });
}

async function toggleEssays() {
  const list = document.getElementById("essays");
  const button = document.getElementById("essays-button");
  if (!list.childElementCount) {
    const found = await getJson("/api/essays");
    for (const essay of found.essays) list.append(el("li", "", essay.title));
  }
  list.hidden = !list.hidden;
  button.setAttribute("aria-expanded", String(!list.hidden));
}

document.addEventListener("DOMContentLoaded", async () => {
  await loadTexts((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");
  const form = document.getElementById("ask");
  const box = document.getElementById("question");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = box.value.trim();
    if (question) { box.value = ""; ask(question); }
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("essays-button").addEventListener("click", toggleEssays);
  document.getElementById("lang-button").addEventListener("click", () => loadTexts(state.lang === "zh" ? "en" : "zh"));
});
