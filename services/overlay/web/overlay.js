// WaddleBot overlay pages: one WebSocket to the daemon, re-opened with backoff, and what it sends
// rendered with textContent only. Module HTML is only ever put into a sandboxed iframe's srcdoc.
'use strict';
(function () {
  const kVersion = 1;
  const page = document.body.dataset.page || 'all';
  const byId = (id) => document.getElementById(id);
  const timers = {};

  // Runs fn after ms (replacing the previous timer of that name); null ms only clears it.
  function later(name, ms, fn) {
    clearTimeout(timers[name]);
    clearInterval(timers[name + ':interval']);
    if (typeof ms === 'number') timers[name] = setTimeout(fn, Math.max(0, ms));
  }
  function show(id, on) {
    const node = byId(id);
    if (node) node.hidden = !on;
  }
  function setText(id, text) {
    const node = byId(id);
    if (node) node.textContent = text || '';
  }
  function isHttpUrl(text) {
    return typeof text === 'string' && /^https?:\/\//i.test(text);
  }

  function onTicker(m) {
    const box = byId('ticker');
    if (!box) return;
    const current = m.current;
    const queued = byId('ticker-queued');
    if (queued) {
      queued.hidden = !(m.queue && m.queue.length);
      queued.textContent = m.queue && m.queue.length ? '+' + m.queue.length : '';
    }
    if (!current) {
      later('ticker', null);
      show('ticker', false);
      return;
    }
    const text = byId('ticker-text');
    text.classList.remove('scrolling');
    text.style.removeProperty('--scroll');
    text.textContent = current.text;
    box.dataset.priority = current.priority || 'normal';
    box.dataset.style = current.style || '';
    show('ticker', true);
    const shownFor = typeof current.remaining_ms === 'number' ? current.remaining_ms
                                                               : current.duration * 1000;
    // Longer than the bar: scroll to its end over the time the item is on screen.
    requestAnimationFrame(() => {
      const overflow = text.scrollWidth - text.parentElement.clientWidth;
      if (overflow > 0) {
        text.style.setProperty('--scroll', -overflow + 'px');
        text.style.animationDuration = Math.max(1000, shownFor) + 'ms';
        text.classList.add('scrolling');
      }
    });
    later('ticker', shownFor, () => show('ticker', false));
  }

  function onMedia(m) {
    const playing = m.now_playing;
    if (!byId('media')) return;
    if (!playing) {
      later('media', null);
      show('media', false);
      return;
    }
    setText('media-title', playing.title || playing.media_url);
    setText('media-artist', playing.artist);
    setText('media-album', playing.album);
    const art = byId('media-art');
    if (isHttpUrl(playing.thumbnail_url)) {
      art.src = playing.thumbnail_url;
      art.hidden = false;
    } else {
      art.removeAttribute('src');
      art.hidden = true;
    }
    const total = (playing.duration || 0) * 1000;
    const started = performance.now() - (playing.elapsed_ms || 0);
    const bar = byId('media-bar');
    show('media-progress', total > 0);
    const tick = () => {
      if (total > 0) bar.style.width = Math.min(100, ((performance.now() - started) / total) * 100) + '%';
    };
    tick();
    show('media', true);
    later('media', playing.remaining_ms, () => show('media', false));
    if (total > 0) timers['media:interval'] = setInterval(tick, 500);
  }

  function onGeneral(m) {
    const content = m.content;
    const frame = byId('general-frame');
    const text = byId('general-text');
    if (!frame || !text) return;
    if (!content) {
      later('general', null);
      show('general', false);
      frame.removeAttribute('srcdoc');
      return;
    }
    if (content.content_type === 'html') {
      // Belt and braces: whatever the markup says, the frame gets no permissions at all.
      frame.setAttribute('sandbox', '');
      frame.srcdoc = content.srcdoc;
      frame.hidden = false;
      text.hidden = true;
    } else {
      frame.removeAttribute('srcdoc');
      frame.hidden = true;
      text.textContent = content.text;
      text.hidden = false;
    }
    show('general', true);
    later('general', content.remaining_ms, () => show('general', false));
  }

  function onForm(m) {
    const form = m.form;
    if (!byId('form')) return;
    if (!form) {
      later('form', null);
      show('form', false);
      return;
    }
    setText('form-title', form.title);
    setText('form-description', form.description);
    const list = byId('form-fields');
    list.replaceChildren();
    for (const field of form.fields || []) {
      const item = document.createElement('li');
      item.textContent = (field.label || field.name) + (field.required ? ' *' : '');
      list.appendChild(item);
    }
    setText('form-url', form.submit_url);
    show('form', true);
    later('form', form.remaining_ms, () => show('form', false));
  }

  const handlers = {ticker: onTicker, media: onMedia, general: onGeneral, form: onForm};

  // A sandboxed frame that could run script could still post here: the browser test checks that
  // nothing ever does.
  window.addEventListener('message', (event) => {
    const report = byId('frame-report');
    if (report) report.textContent += String(event.data).slice(0, 200) + '\n';
  });

  const url = new URL('ws?source=' + encodeURIComponent(page), location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let attempt = 0;

  function reconnect() {
    const base = Math.min(30000, 500 * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 8);
    setTimeout(connect, base * (0.75 + Math.random() / 2));
  }

  function connect() {
    document.body.dataset.connection = 'connecting';
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      reconnect();
      return;
    }
    socket.onopen = () => {
      attempt = 0;
      document.body.dataset.connection = 'open';
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (!message || message.v !== kVersion) return;
      const handler = handlers[message.type];
      if (handler) handler(message);
    };
    socket.onclose = () => {
      document.body.dataset.connection = 'closed';
      reconnect();
    };
  }

  connect();
})();
