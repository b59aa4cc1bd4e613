'use strict';
// The page of `siamtrack serve`: one panel per source with its newest picture (the server draws
// the targets on it), a box dragged with the mouse to add a target, a click on a target to remove
// it, pause / resume / restart for files, and the downloads. The API is in docs/serve.md.

const token = new URLSearchParams(location.search).get('token');
const messageLine = document.getElementById('message');
const MIN_BOX = 4; // pixels: a smaller drag is a click

function withToken(path, params = {}) {
  const query = new URLSearchParams(params);
  if (token) query.set('token', token);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

function say(text, isError = false) {
  messageLine.textContent = text;
  messageLine.className = isError ? 'error' : '';
}

async function errorOf(response) {
  try {
    return (await response.json()).error || response.statusText;
  } catch (e) {
    return response.statusText;
  }
}

function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  Object.assign(node, attributes);
  if (text) node.textContent = text;
  return node;
}

class SourcePanel {
  constructor(info, parent) {
    this.info = info;
    this.targets = new Map(); // id -> its newest results line
    this.version = -1; // of the picture shown
    this.pictures = 0;
    this.bitmap = null;
    this.drag = null;
    this.section = element('section', {className: 'source'});
    this.section.dataset.index = info.index;
    const title = element('h2', {}, `${info.index}: ${info.name}`);
    this.stateText = element('span', {className: 'state'});
    title.append(this.stateText);
    this.canvas = element('canvas', {width: info.width, height: info.height});
    this.context = this.canvas.getContext('2d');
    const controls = element('div', {className: 'controls'});
    this.buttons = {};
    for (const op of info.live ? [] : ['pause', 'resume', 'restart']) {
      this.buttons[op] = element('button', {type: 'button', onclick: () => this.command({op})}, op[0].toUpperCase() + op.slice(1));
      controls.append(this.buttons[op]);
    }
    const base = `api/sources/${info.index}`;
    this.base = base;
    controls.append(element('a', {href: withToken(`${base}/results.json`), download: `${info.name}.json`}, 'results (JSON)'));
    this.table = element('table');
    this.table.innerHTML = '<thead><tr><th>target</th><th>score</th><th></th><th>got10k</th><th></th></tr></thead>';
    this.rows = element('tbody');
    this.table.append(this.rows);
    this.section.append(title, this.canvas, controls, this.table);
    parent.append(this.section);
    this.showState(info.state, info.frame);
    for (const line of info.targets) this.targets.set(line.id, line);
    this.showTargets();
    this.bindMouse();
    this.connect();
    this.fetchPictures();
  }

  showState(state, frame) {
    this.section.dataset.state = state;
    this.stateText.textContent = `${state}, frame ${frame}`;
    if (this.buttons.pause) {
      this.buttons.pause.disabled = state !== 'playing';
      this.buttons.resume.disabled = state !== 'paused';
    }
  }

  showTargets() {
    this.section.dataset.targets = [...this.targets.keys()].join(',');
    this.rows.replaceChildren(...[...this.targets.values()].map((line) => {
      const row = element('tr');
      const remove = element('button', {type: 'button', onclick: () => this.command({op: 'remove', target: line.id})}, 'remove');
      const download = element('a', {href: withToken(`${this.base}/targets/${line.id}.txt`), download: ''}, `${line.id}.txt`);
      row.append(element('td', {}, `#${line.id}`), element('td', {}, line.score.toFixed(2)),
                 element('td', {className: line.ok ? '' : 'lost'}, line.ok ? 'tracking' : 'lost'));
      const cells = [element('td'), element('td')];
      cells[0].append(download);
      cells[1].append(remove);
      row.append(...cells);
      return row;
    }));
  }

  connect() {
    const url = new URL(withToken(`${this.base}/results`), location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = () => setTimeout(() => this.connect(), 1000);
  }

  receive(message) {
    if ('error' in message) {
      say(message.error, true);
    } else if ('state' in message) {
      this.showState(message.state, message.frame);
      for (const id of [...this.targets.keys()]) {
        if (!message.targets.includes(id)) this.targets.delete(id);
      }
      this.showTargets();
    } else if ('id' in message) { // a results line, as `siamtrack track --results -` writes them
      this.targets.set(message.id, message);
      if (!this.rendering) { // the table at most once per painted frame, however many lines arrive
        this.rendering = true;
        requestAnimationFrame(() => { this.rendering = false; this.showTargets(); });
      }
    }
  }

  async command(message) {
    const response = await fetch(withToken(`${this.base}/commands`), {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(message)});
    if (!response.ok) {
      say(await errorOf(response), true);
      return;
    }
    const reply = await response.json();
    say(reply.done === 'add' ? `${this.info.name}: target #${reply.target} added on frame ${reply.frame}`
        : reply.done === 'remove' ? `${this.info.name}: target #${reply.target} removed` : `${this.info.name}: ${reply.state}`);
  }

  async fetchPictures() { // one request at a time: a slow viewer asks less often, the tracker never waits
    for (;;) {
      try {
        const response = await fetch(withToken(`${this.base}/picture`, {after: this.version}), {cache: 'no-store'});
        if (!response.ok) throw new Error(await errorOf(response));
        const bitmap = await createImageBitmap(await response.blob());
        this.version = Number(response.headers.get('X-Version'));
        this.section.dataset.frame = response.headers.get('X-Frame');
        if (this.bitmap) this.bitmap.close();
        this.bitmap = bitmap;
        this.section.dataset.pictures = ++this.pictures;
        this.paint();
      } catch (error) {
        say(`${this.info.name}: ${error.message}`, true);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  paint() {
    if (this.bitmap) this.context.drawImage(this.bitmap, 0, 0);
    if (this.drag) {
      const [x, y, w, h] = this.dragBox();
      this.context.setLineDash([6, 4]);
      this.context.lineWidth = 2;
      this.context.strokeStyle = '#fff';
      this.context.strokeRect(x, y, w, h);
      this.context.setLineDash([]);
    }
  }

  at(event) { // mouse position in frame pixels, whatever size the canvas is shown at
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * this.canvas.width / rect.width,
            (event.clientY - rect.top) * this.canvas.height / rect.height];
  }

  dragBox() {
    const {x0, y0, x1, y1} = this.drag;
    return [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)].map(Math.round);
  }

  bindMouse() {
    this.canvas.addEventListener('mousedown', (event) => {
      event.preventDefault();
      const [x, y] = this.at(event);
      this.drag = {x0: x, y0: y, x1: x, y1: y};
    });
    window.addEventListener('mousemove', (event) => {
      if (!this.drag) return;
      [this.drag.x1, this.drag.y1] = this.at(event);
      this.paint();
    });
    window.addEventListener('mouseup', (event) => {
      if (!this.drag) return;
      [this.drag.x1, this.drag.y1] = this.at(event);
      const box = this.dragBox();
      const {x0, y0} = this.drag;
      this.drag = null;
      this.paint();
      if (box[2] >= MIN_BOX && box[3] >= MIN_BOX) {
        this.command({op: 'add', box});
      } else {
        this.removeAt(x0, y0);
      }
    });
  }

  removeAt(x, y) { // the smallest target box under the click
    const hits = [...this.targets.values()].filter(({box: [bx, by, bw, bh]}) => x >= bx && x <= bx + bw && y >= by && y <= by + bh);
    hits.sort((a, b) => a.box[2] * a.box[3] - b.box[2] * b.box[3]);
    if (hits.length) this.command({op: 'remove', target: hits[0].id});
  }
}

async function main() {
  const response = await fetch(withToken('api/sources'));
  if (!response.ok) {
    say(await errorOf(response), true);
    return;
  }
  const parent = document.getElementById('sources');
  for (const info of await response.json()) new SourcePanel(info, parent);
}

main();
