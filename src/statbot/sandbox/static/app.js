// statbot sandbox web chat: plain JS, no build step. It talks to the control API under
// /_sandbox/ and follows the event feed (long polling) for the bot's messages and edits.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

const ui = {
  bots: [],
  users: [],
  botId: null,
  userId: null,
  seq: 0,
  commands: [],
  unread: new Map(),
  feedGeneration: 0,
  menuIndex: -1,
};

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function postJSON(path, payload) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function colorFor(id) {
  return COLORS[Math.abs(Number(id)) % COLORS.length];
}

function toast(text, alert = false) {
  const box = el("div", { class: alert ? "toast alert" : "toast", role: "status" }, text);
  if (alert) {
    box.append(el("br"), el("button", { type: "button", onclick: () => box.remove() }, "OK"));
  } else {
    setTimeout(() => box.remove(), 3500);
  }
  $("toasts").append(box);
}

// ---- Rendering text with Bot API entities (offsets are UTF-16 units, like JS strings) ----

function entityNode(entity, children) {
  switch (entity.type) {
    case "bold": return el("strong", {}, ...children);
    case "italic": return el("em", {}, ...children);
    case "underline": return el("u", {}, ...children);
    case "strikethrough": return el("s", {}, ...children);
    case "code": return el("code", {}, ...children);
    case "pre": return el("pre", {}, el("code", { "data-language": entity.language }, ...children));
    case "blockquote":
    case "expandable_blockquote": return el("blockquote", {}, ...children);
    case "spoiler": {
      const node = el("span", { class: "spoiler", title: "spoiler" }, ...children);
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "text_link": return el("a", { href: entity.url, target: "_blank", rel: "noopener" }, ...children);
    case "url": {
      const text = children.map((c) => c.textContent).join("");
      return el("a", { href: text, target: "_blank", rel: "noopener" }, ...children);
    }
    case "bot_command": {
      const text = children.map((c) => c.textContent).join("");
      return el("a", { class: "cmd", onclick: () => sendText(text.split("@")[0]) }, ...children);
    }
    default: return el("span", {}, ...children);
  }
}

const BLOCKS = new Set(["pre", "blockquote", "expandable_blockquote"]);

function renderRange(text, entities, start, end) {
  const nodes = [];
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const eStart = Math.max(entity.offset, start);
    const eEnd = Math.min(entity.offset + entity.length, end);
    if (eStart > pos) nodes.push(document.createTextNode(text.slice(pos, eStart)));
    // Entities nested in this one are the following ones that start before it ends.
    let j = i + 1;
    while (j < entities.length && entities[j].offset < entity.offset + entity.length) j++;
    nodes.push(entityNode(entity, renderRange(text, entities.slice(i + 1, j), eStart, eEnd)));
    pos = Math.max(pos, eEnd);
    // Quotes and code blocks are blocks already: the newline that follows them is not a line.
    if (BLOCKS.has(entity.type) && text[pos] === "\n" && pos < end) pos += 1;
    i = j;
  }
  if (pos < end) nodes.push(document.createTextNode(text.slice(pos, end)));
  return nodes;
}

function renderText(text, entities) {
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return renderRange(text, sorted, 0, text.length);
}

// ---- Messages ----

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function timeOf(message) {
  const date = new Date(message.date * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function keyboardNode(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const box = el("div", { class: "inline-keyboard" });
  for (const row of rows) {
    const line = el("div", { class: "kb-row" });
    for (const button of row) {
      const node = el("button", { type: "button", title: button.text }, button.text);
      if (button.callback_data !== undefined) {
        node.dataset.callback = button.callback_data;
        node.addEventListener("click", () => press(message.message_id, button.callback_data, node));
      } else if (button.url) {
        node.classList.add("link");
        node.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
      } else {
        node.disabled = true;
      }
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

function replyNode(messageId) {
  const quoted = $("messages").querySelector(`.row[data-message-id="${messageId}"] .bubble`);
  const text = quoted ? (quoted.querySelector(".text, .caption, .file-name") || quoted).textContent : "";
  return el("div", { class: "reply-ref" }, text.slice(0, 80) || "message");
}

// ---- Telegram Stars: invoices, the Pay button, payment and refund notes ----

const PAY_STATUS = {
  pending: "Paying… waiting for the bot to confirm",
  paid: "Paid ✓",
  declined: "Payment declined",
  expired: "Payment failed",
  refunded: "Refunded",
};

function invoiceNode(message) {
  const invoice = message.invoice;
  const box = el("div", { class: "invoice" },
    el("div", { class: "invoice-title" }, invoice.title),
    el("div", { class: "invoice-description" }, invoice.description));
  const status = message.payment_status;
  const payable = !status || status === "declined" || status === "expired";
  const button = el("button", {
    type: "button",
    class: "pay-button",
    disabled: !payable,
    "data-message-id": message.message_id,
    onclick: () => pay(message.message_id, button),
  }, `Pay ⭐ ${invoice.total_amount}`);
  box.append(button);
  if (status) {
    box.append(el("div", { class: `pay-status ${status}` }, PAY_STATUS[status] || status));
  }
  if (message.payment_error && status !== "paid") {
    box.append(el("div", { class: "pay-error" }, message.payment_error));
  }
  return box;
}

function serviceText(message) {
  if (message.successful_payment) {
    const paid = message.successful_payment;
    return `You paid ⭐ ${paid.total_amount} to the bot.`;
  }
  const refund = message.refunded_payment;
  return `⭐ ${refund.total_amount} were refunded to you.`;
}

async function pay(messageId, node) {
  node.disabled = true;
  try {
    await postJSON("/_sandbox/pay", { ...who(), message_id: messageId });
  } catch (error) {
    node.disabled = false;
    toast(`Could not pay: ${error.message}`, true);
  }
}

function bubbleNode(message) {
  const bubble = el("div", { class: "bubble" });
  if (message.invoice) {
    bubble.append(invoiceNode(message));
    bubble.append(el("span", { class: "meta" }, timeOf(message)));
    return bubble;
  }
  if (message.reply_to_message_id) bubble.append(replyNode(message.reply_to_message_id));
  if (message.photo) {
    const img = el("img", {
      class: "photo",
      src: message.photo.url,
      alt: message.caption || "photo",
      width: message.photo.width || undefined,
      height: message.photo.height || undefined,
    });
    img.addEventListener("click", () => window.open(message.photo.url, "_blank", "noopener"));
    bubble.append(img);
    if (!message.caption) bubble.classList.add("media-only");
  }
  if (message.document) {
    const doc = message.document;
    const ext = (doc.file_name.split(".").pop() || "file").slice(0, 4);
    bubble.append(
      el("a", { class: "file", href: doc.url, download: doc.file_name, title: `Download ${doc.file_name}` },
        el("span", { class: "file-icon" }, ext),
        el("span", {},
          el("div", { class: "file-name" }, doc.file_name),
          el("div", { class: "file-size" }, formatSize(doc.file_size)))),
    );
  }
  if (message.text !== null && message.text !== undefined) {
    bubble.append(el("span", { class: "text" }, ...renderText(message.text, message.entities)));
  } else if (message.caption) {
    bubble.append(el("span", { class: "caption" }, ...renderText(message.caption, message.caption_entities)));
  }
  const meta = `${message.edited ? "edited " : ""}${timeOf(message)}`;
  bubble.append(el("span", { class: "meta" }, meta));
  return bubble;
}

function messageNode(message) {
  if (message.successful_payment || message.refunded_payment) {
    return el("div", { class: "row service", "data-message-id": message.message_id },
      el("div", { class: "service-note" }, serviceText(message)));
  }
  const row = el("div", {
    class: `row ${message.from_bot ? "bot" : "user"}`,
    "data-message-id": message.message_id,
    "data-edits": message.edits,
  });
  row.append(bubbleNode(message));
  const keyboard = keyboardNode(message);
  if (keyboard) row.append(keyboard);
  return row;
}

function nearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function showMessage(message, { flash = false } = {}) {
  const box = $("messages");
  $("empty").hidden = true;
  const stick = nearBottom();
  const node = messageNode(message);
  const existing = box.querySelector(`.row[data-message-id="${message.message_id}"]`);
  if (existing) {
    existing.replaceWith(node);
    if (flash) node.querySelector(".bubble").classList.add("flash");
  } else {
    box.append(node);
  }
  if (message.from_bot && message.reply_keyboard) showReplyKeyboard(message.reply_keyboard);
  if (stick || !existing) scrollDown();
  for (const img of node.querySelectorAll("img")) img.addEventListener("load", () => stick && scrollDown());
}

function removeMessage(messageId) {
  const node = $("messages").querySelector(`.row[data-message-id="${messageId}"]`);
  if (node) node.remove();
  $("empty").hidden = $("messages").querySelector(".row") !== null;
}

function showReplyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  if (!markup.keyboard) {
    box.hidden = true;
    return;
  }
  for (const row of markup.keyboard) {
    const line = el("div", { class: "kb-row" });
    for (const text of row) {
      line.append(el("button", {
        type: "button",
        onclick: () => {
          if (markup.one_time_keyboard) box.hidden = true;
          sendText(text);
        },
      }, text));
    }
    box.append(line);
  }
  box.hidden = false;
}

// ---- Status ("typing…") ----

let statusTimer = null;
const ACTION_LABELS = {
  typing: "typing…",
  upload_photo: "sending a photo…",
  upload_document: "sending a file…",
  find_location: "finding location…",
};

function showAction(action) {
  const status = $("bot-status");
  status.textContent = ACTION_LABELS[action] || `${action.replace(/_/g, " ")}…`;
  status.classList.add("busy");
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    status.textContent = "bot";
    status.classList.remove("busy");
  }, 5000); // Telegram shows a chat action for 5 seconds or until the next message
}

function clearAction() {
  clearTimeout(statusTimer);
  $("bot-status").textContent = "bot";
  $("bot-status").classList.remove("busy");
}

// ---- User actions ----

function who() {
  return { user_id: ui.userId, bot_id: ui.botId };
}

async function sendText(text) {
  const trimmed = text.trim();
  if (!trimmed) return;
  try {
    await postJSON("/_sandbox/messages", { ...who(), text: trimmed });
  } catch (error) {
    toast(`Could not send: ${error.message}`, true);
  }
}

async function sendFile(file) {
  const form = new FormData();
  form.append("user_id", ui.userId);
  form.append("bot_id", ui.botId);
  const caption = $("text-input").value.trim();
  if (caption) form.append("caption", caption);
  // Like Telegram's apps, pictures go as photos; everything else as a document.
  if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) form.append("as_photo", "true");
  form.append("file", file, file.name);
  try {
    await api("/_sandbox/uploads", { method: "POST", body: form });
    $("text-input").value = "";
  } catch (error) {
    toast(`Upload failed: ${error.message}`, true);
  }
}

async function press(messageId, data, node) {
  node.classList.add("pending");
  setTimeout(() => node.classList.remove("pending"), 4000);
  try {
    await postJSON("/_sandbox/presses", { ...who(), message_id: messageId, data });
  } catch (error) {
    node.classList.remove("pending");
    toast(error.message, true);
  }
}

// ---- Command menu (from setMyCommands) ----

function commandMenu(filter) {
  const menu = $("command-menu");
  const matches = ui.commands.filter((c) => `/${c.command}`.startsWith(filter));
  menu.replaceChildren();
  matches.forEach((command, index) => {
    menu.append(el("button", {
      type: "button",
      class: index === ui.menuIndex ? "selected" : undefined,
      onclick: () => {
        hideMenu();
        $("text-input").value = "";
        sendText(`/${command.command}`);
      },
    }, el("span", { class: "c" }, `/${command.command}`), el("span", { class: "d" }, command.description)));
  });
  if (!matches.length) {
    menu.append(el("div", { class: "d", style: "padding:10px 14px;color:#707579" },
      ui.commands.length ? "No matching command" : "The bot has not set any commands yet"));
  }
  menu.hidden = false;
  return matches;
}

function hideMenu() {
  $("command-menu").hidden = true;
  ui.menuIndex = -1;
}

// ---- Pickers and chat loading ----

function renderUsers() {
  const list = $("user-list");
  list.replaceChildren();
  for (const user of ui.users) {
    const unread = ui.unread.get(user.id) || 0;
    list.append(el("li", {
      class: user.id === ui.userId ? "active" : undefined,
      "data-user-id": user.id,
      onclick: () => selectUser(user.id),
    },
    el("span", { class: "mini-avatar", style: `background:${colorFor(user.id)}` }, user.first_name[0]),
    el("span", {}, user.first_name),
    unread ? el("span", { class: "badge" }, String(unread)) : null));
  }
  const current = ui.users.find((u) => u.id === ui.userId);
  $("current-user").textContent = current ? current.first_name : "…";
}

function renderBots() {
  const picker = $("bot-picker");
  picker.replaceChildren(...ui.bots.map((b) => el("option", { value: b.id, title: `@${b.username}` }, b.first_name)));
  picker.value = String(ui.botId);
  const bot = ui.bots.find((b) => b.id === ui.botId);
  $("bot-name").textContent = bot ? bot.first_name : "no bot";
  $("bot-avatar").textContent = bot ? bot.first_name[0] : "?";
}

async function loadChat() {
  const view = await api(`/_sandbox/chats/${ui.userId}?bot_id=${ui.botId}`);
  const box = $("messages");
  box.querySelectorAll(".row").forEach((n) => n.remove());
  $("reply-keyboard").hidden = true;
  clearAction();
  for (const message of view.messages) showMessage(message);
  $("empty").hidden = view.messages.length > 0;
  ui.commands = view.commands || [];
  scrollDown();
}

async function loadInfo() {
  const info = await api("/_sandbox/info");
  ui.bots = info.bots;
  ui.users = info.users;
  ui.seq = info.seq;
  if (!ui.bots.some((b) => b.id === ui.botId)) ui.botId = ui.bots.length ? ui.bots[0].id : null;
  if (!ui.users.some((u) => u.id === ui.userId)) ui.userId = ui.users[0].id;
  renderBots();
  renderUsers();
  await loadChat();
}

async function selectUser(userId) {
  ui.userId = userId;
  ui.unread.delete(userId);
  renderUsers();
  await loadChat();
  $("text-input").focus();
}

// ---- Event feed (long polling) ----

async function refreshCommands() {
  const view = await api(`/_sandbox/chats/${ui.userId}?bot_id=${ui.botId}`);
  ui.commands = view.commands || [];
}

function applyEvent(event) {
  if (event.type === "reset") return "reload";
  const mine = event.bot_id === ui.botId && event.chat_id === ui.userId;
  if (!mine) {
    if (event.bot_id === ui.botId && (event.type === "message" || event.type === "edit")) {
      ui.unread.set(event.chat_id, (ui.unread.get(event.chat_id) || 0) + 1);
      renderUsers();
    }
    return null;
  }
  switch (event.type) {
    case "message":
      clearAction();
      showMessage(event.message);
      break;
    case "user_message":
      showMessage(event.message);
      break;
    case "edit":
      showMessage(event.message, { flash: true });
      break;
    case "delete":
      removeMessage(event.message_id);
      break;
    case "action":
      showAction(event.action.action);
      break;
    case "user_pay":
    case "payment":
      showMessage(event.message, { flash: event.type === "payment" });
      if (event.status === "declined" || event.status === "expired") toast(event.error, true);
      break;
    case "callback_answer":
      document.querySelectorAll(".kb-row button.pending").forEach((n) => n.classList.remove("pending"));
      if (event.answer.text) toast(event.answer.text, event.answer.show_alert);
      if (event.answer.url) window.open(event.answer.url, "_blank", "noopener");
      break;
    default:
      break;
  }
  return null;
}

async function followFeed(generation) {
  while (generation === ui.feedGeneration) {
    try {
      const body = await api(`/_sandbox/events?since=${ui.seq}&timeout=25`);
      if (generation !== ui.feedGeneration) return;
      ui.seq = body.seq;
      let reload = false;
      for (const event of body.events) reload = applyEvent(event) === "reload" || reload;
      if (reload) await loadInfo();
      else if (body.events.length) refreshCommands().catch(() => {});
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the sandbox restarted or went away
    }
  }
}

// ---- Wiring ----

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text-input");
    if (!$("command-menu").hidden && ui.menuIndex >= 0) {
      const matches = ui.commands.filter((c) => `/${c.command}`.startsWith(input.value.trim()));
      if (matches[ui.menuIndex]) input.value = `/${matches[ui.menuIndex].command}`;
    }
    hideMenu();
    sendText(input.value);
    input.value = "";
  });
  $("text-input").addEventListener("input", (event) => {
    const value = event.target.value;
    if (value.startsWith("/") && !value.includes(" ")) commandMenu(value);
    else hideMenu();
  });
  $("text-input").addEventListener("keydown", (event) => {
    if ($("command-menu").hidden) return;
    const count = $("command-menu").querySelectorAll("button").length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      ui.menuIndex = (ui.menuIndex + step + count) % Math.max(count, 1);
      commandMenu(event.target.value);
    } else if (event.key === "Escape") {
      hideMenu();
    }
  });
  $("menu-button").addEventListener("click", () => {
    if ($("command-menu").hidden) commandMenu("/");
    else hideMenu();
  });
  $("file-input").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) sendFile(file);
    event.target.value = "";
  });
  $("bot-picker").addEventListener("change", (event) => {
    ui.botId = Number(event.target.value);
    renderBots();
    loadChat();
  });
  $("add-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("new-user-name").value.trim();
    if (!name) return;
    const user = await postJSON("/_sandbox/users", { first_name: name });
    $("new-user-name").value = "";
    ui.users.push(user);
    await selectUser(user.id);
  });
  $("reset").addEventListener("click", async () => {
    if (window.confirm("Forget all chats, messages and files in this sandbox?")) {
      await postJSON("/_sandbox/reset", {});
    }
  });
  const chat = $("chat");
  chat.addEventListener("dragover", (event) => {
    event.preventDefault();
    $("drop-hint").hidden = false;
  });
  chat.addEventListener("dragleave", (event) => {
    if (event.target === chat || !chat.contains(event.relatedTarget)) $("drop-hint").hidden = true;
  });
  chat.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop-hint").hidden = true;
    for (const file of event.dataTransfer.files) sendFile(file);
  });
  $("api-url").textContent = window.location.origin;
}

async function main() {
  wire();
  await loadInfo();
  ui.feedGeneration += 1;
  followFeed(ui.feedGeneration);
  $("text-input").focus();
  document.body.dataset.ready = "true";
}

main().catch((error) => toast(`The sandbox is not reachable: ${error.message}`, true));
