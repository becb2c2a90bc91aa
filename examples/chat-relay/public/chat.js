// The chat page: plain DOM and one EventSource. It talks only to this page's own server (/api/...);
// the server holds the Runtime's address and credential.

const list = document.getElementById('messages');
const form = document.getElementById('composer');
const input = document.getElementById('message');
const sendButton = document.getElementById('send');
const stopButton = document.getElementById('stop');
const notice = document.getElementById('notice');

/** run_id → { el, reply, label, parts }: `parts[i]` is the text of the run's reply entry i. */
const turns = new Map();
let source = null;

function say(text) {
  notice.textContent = text;
}

function setBusy(busy) {
  sendButton.disabled = busy;
  stopButton.disabled = !busy;
}

function userBubble(content, runId) {
  const li = document.createElement('li');
  li.className = 'bubble user';
  li.dataset.runId = runId ?? '';
  li.textContent = content;
  list.append(li);
}

function turnFor(runId) {
  let turn = turns.get(runId);
  if (turn === undefined) {
    const el = document.createElement('li');
    el.className = 'bubble assistant';
    el.dataset.runId = runId;
    const reply = document.createElement('span');
    reply.className = 'reply';
    const label = document.createElement('span');
    label.className = 'run-status';
    el.append(reply, label);
    list.append(el);
    turn = { el, reply, label, parts: [] };
    turns.set(runId, turn);
  }
  return turn;
}

function render(turn) {
  turn.reply.textContent = turn.parts.join('\n\n');
  turn.el.scrollIntoView({ block: 'end' });
}

// A delta's text belongs at `offset` of its entry. After a reconnect the server repeats the entry
// from offset 0, so placing by offset never shows text twice.
function place(turn, { entry, offset, content }) {
  const current = turn.parts[entry] ?? '';
  if (offset > current.length) return; // missing text: `done` brings the whole reply
  turn.parts[entry] = current.slice(0, offset) + content;
  render(turn);
}

function finish(turn, { status, error, reply }) {
  turn.el.dataset.status = status;
  if (status === 'completed' && reply !== turn.parts.join('\n\n')) {
    // The stream missed text (e.g. the run ended before the page connected): show the stored reply.
    turn.parts = [reply];
    turn.el.dataset.repaired = 'true';
    render(turn);
  }
  if (status !== 'completed') turn.label.textContent = error ? `${status.replace('_', ' ')}: ${error}` : status;
}

function stopWatching() {
  source?.close();
  source = null;
  setBusy(false);
}

function watch(runId) {
  const turn = turnFor(runId);
  turn.el.dataset.status = 'running';
  setBusy(true);
  source?.close();
  source = new EventSource('/api/stream');
  source.addEventListener('delta', (event) => {
    const delta = JSON.parse(event.data);
    if (delta.run_id === runId) place(turn, delta);
  });
  source.addEventListener('done', (event) => {
    finish(turn, JSON.parse(event.data));
    stopWatching();
  });
  source.addEventListener('idle', () => {
    delete turn.el.dataset.status;
    stopWatching();
  });
  source.addEventListener('failure', (event) => {
    say(JSON.parse(event.data).message);
    stopWatching();
  });
  // A dropped connection is retried by EventSource itself (the server resumes the reply); an
  // error answer closes it for good.
  source.addEventListener('error', () => {
    if (source?.readyState === EventSource.CLOSED) {
      say('the connection to the server was lost; reload to continue');
      stopWatching();
    }
  });
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  return { response, payload };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const content = input.value.trim();
  if (content === '') return;
  say('');
  setBusy(true);
  try {
    const { response, payload } = await post('/api/messages', { content });
    if (response.status !== 202) {
      say(payload.error?.message ?? `the message was not sent (${response.status})`);
      setBusy(false);
      return;
    }
    input.value = '';
    userBubble(content, payload.run_id);
    watch(payload.run_id);
  } catch {
    say('the server could not be reached');
    setBusy(false);
  }
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !sendButton.disabled) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stopButton.addEventListener('click', async () => {
  const { response, payload } = await post('/api/stop', {});
  if (!response.ok) say(payload.error?.message ?? 'the reply could not be stopped');
});

async function load() {
  const response = await fetch('/api/conversation');
  if (!response.ok) {
    say('the conversation could not be loaded');
    return;
  }
  const { messages, active_run_id } = await response.json();
  for (const message of messages) {
    if (message.role === 'user') userBubble(message.content, message.run_id);
    else if (message.run_id !== null) {
      const turn = turnFor(message.run_id);
      turn.parts.push(message.content);
      render(turn);
    }
  }
  if (active_run_id !== null) watch(active_run_id);
}

load();
