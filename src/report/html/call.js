// The call page. Reads the report from the JSON block with id "report"
// and draws it. Everything that comes from the report is put in
// the page with textContent, text nodes or setAttribute on SVG shapes, never
// parsed as markup. Sections absent from the report are not drawn.
//
// The timeline draws only what falls inside its view and merges stretches
// closer than a pixel, so a 60-minute call redraws in a few milliseconds
// while it is zoomed and panned.
(function () {
  'use strict';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const root = document.documentElement;
  const app = document.getElementById('app');

  // ---------------------------------------------------------------- helpers

  function set(e, props) {
    for (const k in props) {
      const v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'text') e.textContent = String(v);
      else if (k === 'data') Object.assign(e.dataset, v);
      else if (k === 'vars') for (const n in v) e.style.setProperty(n, v[n]);
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    return e;
  }
  function add(e, kids) {
    for (const c of kids) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  /** An HTML element. */
  function h(tag, props, ...kids) {
    return add(set(document.createElement(tag), props || {}), kids);
  }
  /** An SVG element. */
  function s(tag, props, ...kids) {
    return add(set(document.createElementNS(SVGNS, tag), props || {}), kids);
  }
  const isNum = (x) => typeof x === 'number' && isFinite(x);
  const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : null);
  const arr = (x) => (Array.isArray(x) ? x : []);
  const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

  /** `m:ss`, `h:mm:ss`, with `d` decimals of seconds. */
  function clock(t, d) {
    d = d || 0;
    const neg = t < 0;
    t = Math.abs(t);
    const scale = Math.pow(10, d);
    t = Math.round(t * scale) / scale;
    const hh = Math.floor(t / 3600);
    const mm = Math.floor((t % 3600) / 60);
    let ss = (t % 60).toFixed(d);
    if (ss.indexOf('.') === 1 || ss.length === 1) ss = '0' + ss;
    return (neg ? '-' : '') + (hh ? hh + ':' + String(mm).padStart(2, '0') : String(mm)) + ':' + ss;
  }
  /** A duration for reading: `3.2 s`, `4 min 05 s`, `1 h 02 min`. */
  function dur(t) {
    if (!isNum(t)) return '–';
    if (Math.abs(t) < 60) return t.toFixed(Math.abs(t) < 10 ? 2 : 1) + ' s';
    if (t < 3600) return Math.floor(t / 60) + ' min ' + String(Math.round(t % 60)).padStart(2, '0') + ' s';
    return Math.floor(t / 3600) + ' h ' + String(Math.round((t % 3600) / 60)).padStart(2, '0') + ' min';
  }
  const pct = (x) => (isNum(x) ? (x * 100).toFixed(1) + '%' : '–');
  const fix = (x, d) => (isNum(x) ? x.toFixed(d) : '–');
  const span = (a, b) => clock(a, 1) + '–' + clock(b, 1);

  // ------------------------------------------------------------------- data

  const R = obj(JSON.parse(document.getElementById('report').textContent)) || {};
  const KNOWN = ['schema_version', 'input', 'speakers', 'speech', 'overlaps', 'interruptions', 'silences',
    'talk', 'silence', 'overlap', 'turns', 'speaker_metrics', 'listening', 'warnings', 'transcript', 'pace',
    'tone', 'scorecard'];

  function intervals(a) {
    return arr(a)
      .filter((p) => Array.isArray(p) && isNum(p[0]) && isNum(p[1]) && p[1] >= p[0])
      .map((p) => [p[0], p[1]])
      .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  }
  /** Sorted intervals with overlapping ones joined (so ends are sorted too). */
  function union(list) {
    const out = [];
    for (const p of list) {
      const last = out[out.length - 1];
      if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
      else out.push([p[0], p[1]]);
    }
    return out;
  }

  const input = obj(R.input) || {};
  const ids = [];
  const addId = (id) => {
    if (typeof id === 'string' && ids.indexOf(id) < 0) ids.push(id);
  };
  const channelOf = Object.create(null);
  for (const sp of arr(R.speakers)) {
    if (obj(sp)) {
      addId(sp.id);
      if (isNum(sp.channel)) channelOf[sp.id] = sp.channel;
    }
  }
  const speechIn = obj(R.speech) || {};
  Object.keys(speechIn).forEach(addId);
  Object.keys(obj(R.talk) || {}).forEach(addId);
  const transcript = arr(R.transcript)
    .filter((u) => obj(u) && isNum(u.start_s) && isNum(u.end_s))
    .sort((a, b) => a.start_s - b.start_s);
  transcript.forEach((u) => addId(u.speaker));
  const speech = Object.create(null);
  for (const id of ids) speech[id] = union(intervals(speechIn[id]));
  const overlaps = union(intervals(R.overlaps));
  const silenceInfo = obj(R.silence);
  const longSil = union(intervals(silenceInfo && silenceInfo.long));
  const silences = union(intervals(R.silences).concat(longSil).sort((a, b) => a[0] - b[0]));
  const longKey = new Set(longSil.map((p) => p[0].toFixed(3)));
  const events = arr(R.interruptions)
    .filter((e) => obj(e) && isNum(e.at_s))
    .sort((a, b) => a.at_s - b.at_s);
  const scorecard = obj(R.scorecard);
  const pace = obj(R.pace);
  const tone = obj(R.tone);

  let duration = isNum(input.duration_s) && input.duration_s > 0 ? input.duration_s : 0;
  if (!duration) {
    for (const id of ids) for (const p of speech[id]) duration = Math.max(duration, p[1]);
    for (const p of silences) duration = Math.max(duration, p[1]);
    for (const u of transcript) duration = Math.max(duration, u.end_s);
  }
  if (!duration) duration = 1;

  // Lookup tables without a prototype: a speaker or marker called "constructor" is just a name.
  const table0 = (o) => Object.assign(Object.create(null), o);
  const ROLE_COLOURS = table0({ agent: '#1d5fd1', customer: '#c2410c', speaker: '#0f766e' });
  const PALETTE = ['#7c3aed', '#be185d', '#047857', '#a16207', '#475569', '#0e7490'];
  const colour = Object.create(null);
  {
    let k = 0;
    for (const id of ids) colour[id] = ROLE_COLOURS[id] || PALETTE[k++ % PALETTE.length];
  }

  const MARKER_LABELS = table0({
    open_question: 'open question',
    closed_question: 'closed question',
    empathy: 'empathy',
    paraphrase: 'paraphrase',
    clarifying_question: 'clarifying question',
    apology: 'apology',
    politeness: 'politeness',
    filler: 'filler',
    frustration: 'frustration',
  });
  /** A marker's name, whether it is a string or an object naming its kind. */
  function markerName(m) {
    if (typeof m === 'string') return m;
    const o = obj(m);
    if (o) for (const k of ['kind', 'type', 'id', 'name']) if (typeof o[k] === 'string') return o[k];
    return null;
  }
  const markerClass = (name) => (MARKER_LABELS[name] ? 'm-' + name : 'm-other');

  // ------------------------------------------------------------ audio, bus

  const audio = document.getElementById('audio');
  function seek(t) {
    if (!audio || !isNum(t)) return;
    try {
      audio.currentTime = Math.max(0, t);
    } catch (e) {
      // Not seekable yet: the player starts at 0.
    }
  }

  let timeline = null;
  let transcriptView = null;

  /**
   * Selects moments: highlights `ranges` on the timeline (bringing them into
   * view), the matching utterances in the transcript (unless the transcript
   * made the selection), and seeks the player to the first one.
   */
  function select(sel) {
    if (timeline) timeline.setSelection(sel);
    if (transcriptView && sel.source !== 'transcript') transcriptView.reveal(sel);
    if (sel.ranges.length) seek(sel.ranges[0][0]);
  }

  // ---------------------------------------------------------------- header

  function header() {
    const sub = document.getElementById('sub');
    if (!sub) return;
    const parts = [];
    parts.push(dur(duration));
    if (typeof input.format === 'string') parts.push(input.format);
    if (isNum(input.sample_rate)) parts.push(input.sample_rate + ' Hz');
    if (isNum(input.channels)) parts.push(input.channels + (input.channels === 1 ? ' channel' : ' channels'));
    parts.push(ids.map((id) => (id in channelOf ? id + ' (channel ' + (channelOf[id] + 1) + ')' : id)).join(', '));
    if (typeof R.schema_version === 'string') parts.push('report ' + R.schema_version);
    sub.textContent = parts.join(' · ');
  }

  function warnings() {
    const w = arr(R.warnings).filter((x) => typeof x === 'string');
    if (!w.length) return null;
    return h('section', { class: 'notice', id: 'warnings' },
      h('strong', { text: w.length === 1 ? 'Warning' : 'Warnings' }),
      h('ul', null, ...w.map((x) => h('li', { text: x }))));
  }

  // ----------------------------------------------------------------- cards

  function swatch(id) {
    return h('span', { class: 'swatch', vars: { '--c': colour[id] } });
  }

  function cards() {
    const box = h('section', { class: 'cards', id: 'cards' });
    const talk = obj(R.talk);
    if (talk) {
      const bar = h('div', { class: 'sharebar', role: 'img', 'aria-label': 'talk share of speech' });
      const legend = h('ul', { class: 'legend-list' });
      for (const id of ids) {
        const t = obj(talk[id]);
        if (!t) continue;
        if (isNum(t.share_of_speech)) {
          bar.append(h('span', { vars: { '--c': colour[id], '--w': (t.share_of_speech * 100).toFixed(3) + '%' }, title: id + ' ' + pct(t.share_of_speech) }));
        }
        legend.append(h('li', null, swatch(id), h('b', { text: id }), ' ' + pct(t.share_of_speech) + ' of speech',
          h('span', { class: 'muted', text: ' · ' + dur(t.time_s) + ', ' + pct(t.share_of_call) + ' of the call' })));
      }
      box.append(h('div', { class: 'card', id: 'card-talk' }, h('h3', { text: 'Talk share' }), bar, legend));
    }
    const l = obj(R.listening);
    if (l && isNum(l.agent_listening_share)) {
      const meter = h('div', { class: 'meter', role: 'img', 'aria-label': 'listening share against the target' },
        h('span', { class: 'fill' + (l.meets_target === false ? ' bad' : ' ok'), vars: { '--w': (l.agent_listening_share * 100).toFixed(3) + '%' } }));
      if (isNum(l.target)) meter.append(h('span', { class: 'target', vars: { '--w': (l.target * 100).toFixed(3) + '%' }, title: 'target ' + pct(l.target) }));
      const verdict = l.meets_target === true ? 'meets the target' : l.meets_target === false ? 'below the target' : '';
      box.append(h('div', { class: 'card', id: 'card-listening' }, h('h3', { text: 'Agent listening share' }),
        h('p', { class: 'big' }, pct(l.agent_listening_share), ' ',
          verdict ? h('span', { class: l.meets_target ? 'ok' : 'bad', text: (l.meets_target ? '✓ ' : '✗ ') + verdict }) : null),
        meter,
        h('p', { class: 'muted', text: 'customer talk over agent + customer talk' + (isNum(l.target) ? '; target ' + pct(l.target) : '') })));
    }
    if (silenceInfo) {
      const si = silenceInfo;
      box.append(h('div', { class: 'card', id: 'card-silence' }, h('h3', { text: 'Silence' }),
        h('p', { class: 'big', text: dur(si.total_s) }),
        h('p', null, (isNum(si.count) ? si.count : silences.length) + ' silence(s) of ' + fix(si.min_s, 1) + ' s or more, ' + pct(si.share_of_call) + ' of the call'),
        isNum(si.long_min_s) ? h('p', { class: 'muted', text: longSil.length + ' long (≥ ' + fix(si.long_min_s, 1) + ' s), ' + dur(si.long_total_s) }) : null));
    }
    // Overlaps and interruptions need two speakers: a mono call has none to show.
    const several = ids.length > 1;
    const ov = obj(R.overlap);
    if (ov && several) {
      box.append(h('div', { class: 'card', id: 'card-overlap' }, h('h3', { text: 'Overlap' }),
        h('p', { class: 'big', text: dur(ov.total_s) }),
        h('p', null, (isNum(ov.count) ? ov.count : overlaps.length) + ' stretch(es) of simultaneous speech, ' + pct(ov.share_of_call) + ' of the call')));
    }
    const sm = obj(R.speaker_metrics);
    if (several && (sm || events.length)) {
      const list = h('ul', { class: 'legend-list' });
      for (const id of ids) {
        const m = obj(sm && sm[id]);
        const made = m && isNum(m.interruptions_made) ? m.interruptions_made : events.filter((e) => e.interrupter === id && e.kind === 'interruption').length;
        const bc = m && isNum(m.backchannels_made) ? m.backchannels_made : events.filter((e) => e.interrupter === id && e.kind === 'backchannel').length;
        list.append(h('li', null, swatch(id), h('b', { text: id }), ' interrupted ' + made + '×, ' + bc + ' backchannel(s)'));
      }
      box.append(h('div', { class: 'card', id: 'card-interruptions' }, h('h3', { text: 'Interruptions' }),
        h('p', { class: 'big', text: String(events.filter((e) => e.kind !== 'backchannel').length) }), list));
    }
    return box.childNodes.length ? box : null;
  }

  // -------------------------------------------------------------- timeline

  /** Time series for the timeline's charts: `over_time` when the report has it, else one dot per utterance. */
  function series(section, key, uttKey) {
    const out = [];
    for (const id of ids) {
      const o = obj(section && section[id]);
      const pts = arr(o && o[key]).filter((p) => Array.isArray(p) && isNum(p[0]) && isNum(p[1])).sort((a, b) => a[0] - b[0]);
      if (pts.length) {
        // Points further apart than a few steps are not joined: the speaker was silent between them.
        const steps = pts.slice(1).map((p, i) => p[0] - pts[i][0]).sort((a, b) => a - b);
        const step = steps.length ? steps[steps.length >> 1] : 0;
        out.push({ id: id, pts: pts, dots: pts.length < 2, gap: Math.max(1.5, 3 * step) });
        continue;
      }
      const dots = transcript.filter((u) => u.speaker === id && isNum(u[uttKey])).map((u) => [(u.start_s + u.end_s) / 2, u[uttKey]]);
      if (dots.length) out.push({ id: id, pts: dots, dots: true });
    }
    return out;
  }

  function Timeline() {
    const G = 104; // gutter for labels
    const RP = 12;
    const LANE = 28;
    const LGAP = 8;
    const SILROW = 16;
    const CHART = 72;
    const CGAP = 14;
    const AXIS = 26;
    const TOP = 4;

    const charts = [];
    const paceS = series(pace, 'over_time', 'wpm');
    if (paceS.length) charts.push({ label: 'pace', unit: 'wpm', series: paceS, zero: true });
    const pitchS = series(tone, 'pitch_over_time', 'pitch_median_hz');
    if (pitchS.length) charts.push({ label: 'pitch', unit: 'Hz', series: pitchS, zero: false });
    for (const c of charts) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const sr of c.series) {
        for (const p of sr.pts) {
          lo = Math.min(lo, p[1]);
          hi = Math.max(hi, p[1]);
        }
      }
      if (c.zero) lo = Math.min(0, lo);
      const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
      c.lo = c.zero ? lo : lo - pad;
      c.hi = hi + pad;
    }

    const laneY = Object.create(null);
    let y = TOP + SILROW + 6;
    const laneTop = y;
    ids.forEach((id) => {
      laneY[id] = y;
      y += LANE + LGAP;
    });
    const lanesBottom = y - LGAP;
    for (const c of charts) {
      c.y = y + CGAP;
      y = c.y + CHART;
    }
    const axisY = y + 6;
    const H = axisY + AXIS;

    const view = { v0: 0, span: duration };
    const minSpan = Math.min(duration, 1);
    let W = 900;
    let plotW = W - G - RP;
    let sel = null;
    let playT = null;

    const panel = h('section', { class: 'panel timeline-panel', id: 'timeline-panel' });
    const head = h('div', { class: 'toolbar' });
    const info = h('span', { class: 'muted view-info' });
    const btn = (label, title, fn) => h('button', { type: 'button', title: title, 'aria-label': title, text: label, onclick: fn });
    const pin = h('input', { type: 'checkbox', id: 'pin-timeline' });
    head.append(h('h2', { text: 'Timeline' }),
      btn('−', 'zoom out', () => zoomAt(2, view.v0 + view.span / 2)),
      btn('+', 'zoom in', () => zoomAt(0.5, view.v0 + view.span / 2)),
      btn('fit', 'show the whole call', () => {
        view.v0 = 0;
        view.span = duration;
        schedule();
      }),
      btn('◀', 'earlier', () => pan(-0.8 * view.span)),
      btn('▶', 'later', () => pan(0.8 * view.span)),
      info,
      h('span', { class: 'muted hint', text: 'wheel: zoom · drag, shift+wheel, scrollbar: pan · click: select' }),
      h('label', { class: 'pin' }, pin, ' keep in view'));
    pin.addEventListener('change', () => panel.classList.toggle('pinned', pin.checked));
    panel.append(head);
    if (audio) panel.append(audio);

    const svg = s('svg', { id: 'timeline', class: 'timeline', height: H, tabindex: '0', 'aria-label': 'Timeline of the call: speech per speaker, overlaps, interruptions and silences. Keys: plus and minus zoom, arrows pan, 0 shows all.' });
    const defs = s('defs', null,
      s('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { width: 6, height: 6, class: 'hatch-bg' }),
        s('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch-line' })),
      s('marker', { id: 'arrow-int', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-int' })),
      s('marker', { id: 'arrow-bc', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
        s('path', { d: 'M0,1 L9,5 L0,9', class: 'arrow-bc' })),
      s('clipPath', { id: 'plot-clip' }, s('rect', { id: 'plot-clip-rect', x: G, y: 0, width: 10, height: H })));
    const gStatic = s('g', { class: 'static' });
    const gGrid = s('g', { class: 'grid', 'clip-path': 'url(#plot-clip)' });
    const gBands = s('g', { class: 'bands', 'clip-path': 'url(#plot-clip)' });
    const gSpeech = s('g', { class: 'speech', 'clip-path': 'url(#plot-clip)' });
    const gCharts = s('g', { class: 'charts', 'clip-path': 'url(#plot-clip)' });
    const gEvents = s('g', { class: 'events', 'clip-path': 'url(#plot-clip)' });
    const gSel = s('g', { class: 'selection', 'clip-path': 'url(#plot-clip)' });
    const gAxis = s('g', { class: 'axis' });
    const playhead = s('line', { class: 'playhead', y1: TOP, y2: axisY, x1: -10, x2: -10 });
    svg.append(defs, gStatic, gGrid, gBands, gSpeech, gCharts, gEvents, gSel, gAxis, playhead);

    const box = h('div', { class: 'tl-box' }, svg);
    const spacer = h('div', { class: 'tl-spacer' });
    const scroller = h('div', { class: 'tl-scroll', 'aria-label': 'scroll the timeline' }, spacer);
    panel.append(box, scroller, legend());

    function legend() {
      const item = (sw, label) => h('span', { class: 'li' }, sw, ' ' + label);
      const mini = (...kids) => s('svg', { width: 26, height: 12, class: 'mini' }, ...kids);
      const items = ids.map((id) => item(mini(s('rect', { x: 0, y: 1, width: 26, height: 10, fill: colour[id] })), id));
      if (overlaps.length) items.push(item(mini(s('rect', { x: 0, y: 0, width: 26, height: 12, fill: 'url(#hatch)', class: 'ovl' })), 'overlap'));
      if (silences.length) {
        items.push(item(mini(s('rect', { x: 0, y: 2, width: 26, height: 8, class: 'sil' })), 'silence ≥ ' + fix(silenceInfo && silenceInfo.min_s, 0) + ' s'));
        if (longSil.length) items.push(item(mini(s('rect', { x: 0, y: 2, width: 26, height: 8, class: 'sil long' })), 'long silence'));
      }
      if (events.some((e) => e.kind !== 'backchannel')) items.push(item(mini(s('line', { x1: 2, y1: 6, x2: 22, y2: 6, class: 'ev-int', 'marker-end': 'url(#arrow-int)' })), 'interruption (interrupter → interrupted)'));
      if (events.some((e) => e.kind === 'backchannel')) items.push(item(mini(s('line', { x1: 2, y1: 6, x2: 22, y2: 6, class: 'ev-bc', 'marker-end': 'url(#arrow-bc)' })), 'backchannel'));
      return h('div', { class: 'legend' }, ...items);
    }

    const X = (t) => G + ((t - view.v0) * plotW) / view.span;
    const T = (x) => view.v0 + ((x - G) * view.span) / plotW;

    /**
     * Calls `fn([a, b, first, last])` for the stretches of `list` (sorted,
     * disjoint) inside the view, joining those less than `gapPx` apart.
     */
    function visible(list, gapPx, fn) {
      const t0 = view.v0;
      const t1 = view.v0 + view.span;
      const k = plotW / view.span;
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (list[m][1] < t0) lo = m + 1;
        else hi = m;
      }
      let cur = null;
      for (let i = lo; i < list.length && list[i][0] <= t1; i++) {
        const a = Math.max(list[i][0], t0);
        const b = Math.min(list[i][1], t1);
        if (cur && (a - cur[1]) * k < gapPx) {
          if (b > cur[1]) cur[1] = b;
          cur[3] = i;
        } else {
          if (cur) fn(cur);
          cur = [a, b, i, i];
        }
      }
      if (cur) fn(cur);
    }

    function drawStatic() {
      gStatic.replaceChildren();
      for (const id of ids) {
        gStatic.append(
          s('rect', { class: 'lane-bg', x: G, y: laneY[id], width: plotW, height: LANE }),
          s('rect', { x: 6, y: laneY[id] + LANE / 2 - 5, width: 10, height: 10, rx: 2, fill: colour[id] }),
          s('text', { class: 'lane-label', x: 22, y: laneY[id] + LANE / 2 + 4, text: id.length > 11 ? id.slice(0, 10) + '…' : id }, s('title', { text: id })));
      }
      if (silences.length) gStatic.append(s('text', { class: 'row-label', x: 6, y: TOP + SILROW - 4, text: 'silence' }));
      for (const c of charts) {
        gStatic.append(
          s('rect', { class: 'chart-bg', x: G, y: c.y, width: plotW, height: CHART }),
          s('text', { class: 'lane-label', x: 6, y: c.y + 14, text: c.label }),
          s('text', { class: 'row-label', x: 6, y: c.y + 28, text: c.unit + (c.series.every((sr) => sr.dots) ? ', per utterance' : '') }),
          s('text', { class: 'tick', x: G - 4, y: c.y + 9, 'text-anchor': 'end', text: Math.round(c.hi) }),
          s('text', { class: 'tick', x: G - 4, y: c.y + CHART, 'text-anchor': 'end', text: Math.round(c.lo) }));
      }
    }

    function tickStep() {
      const k = plotW / view.span;
      const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
      for (const st of steps) if (st * k >= 84) return st;
      return 7200 * Math.ceil(84 / (7200 * k));
    }

    function draw() {
      drawPending = false;
      const k = plotW / view.span;
      const t0 = view.v0;
      const t1 = view.v0 + view.span;
      svg.dataset.v0 = t0.toFixed(3);
      svg.dataset.span = view.span.toFixed(3);
      info.textContent = span(t0, t1) + ' (' + dur(view.span) + ')';
      for (const g of [gGrid, gBands, gSpeech, gCharts, gEvents, gSel, gAxis]) g.replaceChildren();

      // Axis and grid.
      const st = tickStep();
      const d = st < 1 ? 1 : 0;
      gAxis.append(s('line', { class: 'axis-line', x1: G, x2: G + plotW, y1: axisY, y2: axisY }));
      for (let t = Math.ceil(t0 / st) * st; t <= t1 + 1e-9; t += st) {
        const x = X(t);
        gGrid.append(s('line', { x1: x, x2: x, y1: laneTop - 4, y2: axisY }));
        const anchor = x > G + plotW - 24 ? 'end' : 'middle';
        gAxis.append(s('line', { class: 'axis-line', x1: x, x2: x, y1: axisY, y2: axisY + 4 }),
          s('text', { class: 'tick', x: x, y: axisY + 16, 'text-anchor': anchor, text: clock(t, d) }));
      }

      // Silences: a bar in the silence row and a faint band across the lanes.
      visible(silences, 1, (p) => {
        const w = Math.max(1.5, (p[1] - p[0]) * k);
        const first = silences[p[2]];
        const last = silences[p[3]];
        const long = p[2] === p[3] && longKey.has(first[0].toFixed(3));
        const n = p[3] - p[2] + 1;
        const g = s('g', { class: 'sil-g', data: { k: 'range', s: first[0], e: last[1] } },
          s('title', { text: n > 1 ? n + ' silences, ' + span(first[0], last[1]) : (long ? 'long silence ' : 'silence ') + dur(first[1] - first[0]) + ', ' + span(first[0], first[1]) }),
          s('rect', { class: 'sil-bg', x: X(p[0]), y: laneTop - 2, width: w, height: lanesBottom - laneTop + 4 }),
          s('rect', { class: long ? 'sil long' : 'sil', x: X(p[0]), y: TOP + 2, width: w, height: SILROW - 4, rx: 2 }));
        if (w > 40 && n === 1) g.append(s('text', { class: 'sil-label', x: X(p[0]) + w / 2, y: TOP + SILROW - 5, 'text-anchor': 'middle', text: (first[1] - first[0]).toFixed(1) + ' s' }));
        gBands.append(g);
      });

      // Speech per speaker.
      for (const id of ids) {
        const list = speech[id];
        visible(list, 1, (p) => {
          const first = list[p[2]];
          const last = list[p[3]];
          const n = p[3] - p[2] + 1;
          gSpeech.append(s('rect', {
            class: 'seg', x: X(p[0]), y: laneY[id] + 3, width: Math.max(1.5, (p[1] - p[0]) * k), height: LANE - 6, rx: 2, fill: colour[id],
            data: { k: 'seg', sp: id, s: first[0], e: last[1] },
          }, s('title', { text: n > 1 ? id + ': ' + n + ' stretches of speech, ' + span(first[0], last[1]) : id + ' ' + span(first[0], first[1]) + ' (' + dur(first[1] - first[0]) + ')' })));
        });
      }

      // Overlaps, hatched across the lanes.
      visible(overlaps, 1, (p) => {
        const first = overlaps[p[2]];
        const last = overlaps[p[3]];
        gBands.append(s('rect', {
          class: 'ovl', x: X(p[0]), y: laneTop - 3, width: Math.max(2, (p[1] - p[0]) * k), height: lanesBottom - laneTop + 6, fill: 'url(#hatch)',
          data: { k: 'range', s: first[0], e: last[1] },
        }, s('title', { text: (p[2] === p[3] ? 'overlap ' + dur(first[1] - first[0]) + ', ' : 'overlaps, ') + span(first[0], last[1]) })));
      });

      // Interruptions and backchannels: an arrow from the interrupter's lane to the interrupted's.
      let lo = 0;
      let hi = events.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (events[m].at_s < t0) lo = m + 1;
        else hi = m;
      }
      for (let i = lo; i < events.length && events[i].at_s <= t1; i++) {
        const e = events[i];
        const bc = e.kind === 'backchannel';
        const x = X(e.at_s);
        const from = laneY[e.interrupter];
        const to = laneY[e.interrupted];
        const what = bc
          ? e.interrupter + ' backchannel while ' + e.interrupted + ' spoke'
          : e.interrupter + ' interrupted ' + e.interrupted;
        const g = s('g', { class: bc ? 'ev ev-bc' : 'ev ev-int', data: { k: 'ev', i: i } },
          s('title', { text: clock(e.at_s, 1) + ' ' + what + (isNum(e.overlap_s) ? ' (' + dur(e.overlap_s) + ' overlap)' : '') }));
        if (from !== undefined && to !== undefined && from !== to) {
          const y1 = from + LANE / 2;
          const y2 = to > from ? to + 2 : to + LANE - 2;
          g.append(s('line', { class: 'hit', x1: x, x2: x, y1: y1, y2: y2 }),
            s('line', { class: 'stem', x1: x, x2: x, y1: y1, y2: y2, 'marker-end': bc ? 'url(#arrow-bc)' : 'url(#arrow-int)' }),
            bc ? s('circle', { class: 'head', cx: x, cy: y1, r: 3.5 }) : s('circle', { class: 'head', cx: x, cy: y1, r: 4 }));
        } else {
          const yy = (from !== undefined ? from : laneTop) + 4;
          g.append(s('path', { class: 'head', d: 'M' + (x - 5) + ',' + yy + ' L' + (x + 5) + ',' + yy + ' L' + x + ',' + (yy + 8) + ' z' }),
            s('line', { class: 'hit', x1: x, x2: x, y1: yy, y2: yy + LANE }));
        }
        gEvents.append(g);
      }

      // Pace and pitch.
      for (const c of charts) {
        const Y = (v) => c.y + CHART - ((v - c.lo) / (c.hi - c.lo)) * CHART;
        for (const sr of c.series) {
          const pts = sr.pts;
          let a = 0;
          let b = pts.length;
          while (a < b) {
            const m = (a + b) >> 1;
            if (pts[m][0] < t0) a = m + 1;
            else b = m;
          }
          const start = Math.max(0, a - 1);
          if (sr.dots) {
            for (let i = start; i < pts.length && pts[i][0] <= t1; i++) {
              gCharts.append(s('circle', { class: 'dot', cx: X(pts[i][0]), cy: Y(pts[i][1]), r: 2.8, fill: colour[sr.id] },
                s('title', { text: sr.id + ' ' + Math.round(pts[i][1]) + ' ' + c.unit + ' at ' + clock(pts[i][0], 1) })));
            }
          } else {
            let d = '';
            let lastX = -Infinity;
            let lastT = -Infinity;
            for (let i = start; i < pts.length; i++) {
              const x = X(pts[i][0]);
              const jump = pts[i][0] - lastT > sr.gap;
              if (jump || x - lastX >= 0.75 || pts[i][0] > t1) {
                d += (jump ? 'M' : 'L') + x.toFixed(1) + ',' + Y(pts[i][1]).toFixed(1);
                lastX = x;
              }
              lastT = pts[i][0];
              if (pts[i][0] > t1) break;
            }
            if (d) gCharts.append(s('path', { class: 'series', d: d, stroke: colour[sr.id] }, s('title', { text: sr.id + ' ' + c.label + ', ' + c.unit })));
          }
        }
      }

      drawSelection();
      drawPlayhead();
      syncScroll();
    }

    function drawSelection() {
      gSel.replaceChildren();
      if (!sel) return;
      const k = plotW / view.span;
      const yBottom = charts.length ? charts[charts.length - 1].y + CHART : lanesBottom;
      for (const r of sel.ranges) {
        if (r[1] < view.v0 || r[0] > view.v0 + view.span) continue;
        const x = X(Math.max(r[0], view.v0));
        const w = Math.max(2, (Math.min(r[1], view.v0 + view.span) - Math.max(r[0], view.v0)) * k);
        gSel.append(s('rect', { class: 'hi' + (sel.source === 'scorecard' ? ' evidence' : ''), x: x, y: TOP, width: w, height: yBottom - TOP + 2 }));
        if (sel.speaker && laneY[sel.speaker] !== undefined) {
          gSel.append(s('rect', { class: 'hi-lane', x: x, y: laneY[sel.speaker] + 1, width: w, height: LANE - 2 }));
        }
      }
    }

    function drawPlayhead() {
      const show = playT !== null && playT >= view.v0 && playT <= view.v0 + view.span;
      const x = show ? X(playT) : -10;
      playhead.setAttribute('x1', x);
      playhead.setAttribute('x2', x);
    }

    let syncing = false;
    function spacerWidth() {
      return Math.min(3e7, (plotW * duration) / view.span);
    }
    function syncScroll() {
      spacer.style.width = spacerWidth().toFixed(0) + 'px';
      const max = scroller.scrollWidth - scroller.clientWidth;
      const want = duration > view.span ? (view.v0 / (duration - view.span)) * max : 0;
      if (Math.abs(scroller.scrollLeft - want) > 1) {
        syncing = true;
        scroller.scrollLeft = want;
      }
    }
    scroller.addEventListener('scroll', () => {
      if (syncing) {
        syncing = false;
        return;
      }
      const max = scroller.scrollWidth - scroller.clientWidth;
      if (max > 0) {
        view.v0 = (scroller.scrollLeft / max) * (duration - view.span);
        schedule();
      }
    });

    let drawPending = false;
    function schedule() {
      if (drawPending) return;
      drawPending = true;
      requestAnimationFrame(draw);
    }

    function clampView() {
      view.span = clamp(view.span, minSpan, duration);
      view.v0 = clamp(view.v0, 0, duration - view.span);
    }
    function zoomAt(factor, t) {
      const span2 = clamp(view.span * factor, minSpan, duration);
      view.v0 = t - ((t - view.v0) * span2) / view.span;
      view.span = span2;
      clampView();
      schedule();
    }
    function pan(dt) {
      view.v0 += dt;
      clampView();
      schedule();
    }

    function resize() {
      const w = Math.max(360, Math.floor(box.clientWidth));
      if (w === W) return false;
      W = w;
      plotW = W - G - RP;
      svg.setAttribute('width', W);
      svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
      document.getElementById('plot-clip-rect').setAttribute('width', plotW);
      scroller.style.marginLeft = G + 'px';
      scroller.style.marginRight = RP + 'px';
      drawStatic();
      return true;
    }

    // Interaction: wheel zooms around the pointer, drag pans, click selects.
    svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      const dx = e.deltaX * unit;
      const dy = e.deltaY * unit;
      if (e.shiftKey || Math.abs(dx) > Math.abs(dy)) pan(((e.shiftKey ? dy || dx : dx) / plotW) * view.span);
      else {
        const rect = svg.getBoundingClientRect();
        zoomAt(Math.exp(dy * 0.0015), clamp(T(e.clientX - rect.left), 0, duration));
      }
    }, { passive: false });

    // A drag ends in a click on whatever is under the pointer: that click is
    // not a selection. It comes right after pointerup, before any timer.
    const drag = { on: false, moved: false, justDragged: false, x: 0, v0: 0 };
    function onMove(e) {
      const dx = e.clientX - drag.x;
      if (Math.abs(dx) > 3) drag.moved = true;
      if (drag.moved) {
        view.v0 = drag.v0 - (dx / plotW) * view.span;
        clampView();
        schedule();
      }
    }
    function onUp() {
      drag.on = false;
      if (drag.moved) {
        drag.justDragged = true;
        setTimeout(() => {
          drag.justDragged = false;
        }, 0);
      }
      svg.classList.remove('dragging');
      window.removeEventListener('pointermove', onMove);
      window.removeEventListener('pointerup', onUp);
    }
    svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      drag.on = true;
      drag.moved = false;
      drag.justDragged = false;
      drag.x = e.clientX;
      drag.v0 = view.v0;
      svg.classList.add('dragging');
      window.addEventListener('pointermove', onMove);
      window.addEventListener('pointerup', onUp);
    });
    svg.addEventListener('click', (e) => {
      if (drag.justDragged) return;
      const target = e.target.closest ? e.target.closest('[data-k]') : null;
      if (target) {
        const dk = target.dataset.k;
        if (dk === 'seg') {
          select({ ranges: [[+target.dataset.s, +target.dataset.e]], speaker: target.dataset.sp, source: 'timeline' });
        } else if (dk === 'range') {
          select({ ranges: [[+target.dataset.s, +target.dataset.e]], source: 'timeline' });
        } else if (dk === 'ev') {
          const ev = events[+target.dataset.i];
          const u = Array.isArray(ev.utterance) && isNum(ev.utterance[0]) && isNum(ev.utterance[1]) ? ev.utterance : [ev.at_s, ev.at_s + (isNum(ev.overlap_s) ? ev.overlap_s : 0)];
          select({ ranges: [[u[0], u[1]]], speaker: ev.interrupter, source: 'timeline' });
        }
        return;
      }
      if (audio) {
        const rect = svg.getBoundingClientRect();
        const t = T(e.clientX - rect.left);
        if (t >= 0 && t <= duration && e.clientX - rect.left >= G) {
          seek(t);
          setPlayhead(t);
        }
      }
    });
    svg.addEventListener('keydown', (e) => {
      const mid = view.v0 + view.span / 2;
      if (e.key === '+' || e.key === '=') zoomAt(0.5, mid);
      else if (e.key === '-' || e.key === '_') zoomAt(2, mid);
      else if (e.key === '0') zoomAt(duration / view.span, 0);
      else if (e.key === 'ArrowLeft') pan(-0.1 * view.span);
      else if (e.key === 'ArrowRight') pan(0.1 * view.span);
      else return;
      e.preventDefault();
    });

    /** Shows `sel` and brings its ranges into view (zooming out if they do not fit). */
    function setSelection(next) {
      sel = next && next.ranges.length ? next : null;
      if (sel) {
        const a = sel.ranges.reduce((m, r) => Math.min(m, r[0]), Infinity);
        const b = sel.ranges.reduce((m, r) => Math.max(m, r[1]), -Infinity);
        if (a < view.v0 || b > view.v0 + view.span) {
          if (b - a > view.span * 0.9) view.span = Math.min(duration, Math.max(minSpan, (b - a) * 1.25));
          view.v0 = (a + b) / 2 - view.span / 2;
          clampView();
        }
      }
      schedule();
    }
    function setPlayhead(t) {
      playT = t;
      if (t !== null && (t < view.v0 || t > view.v0 + view.span) && audio && !audio.paused) {
        view.v0 = t - view.span * 0.1;
        clampView();
        schedule();
      }
      drawPlayhead();
    }

    function start() {
      resize();
      clampView();
      draw();
      if (window.ResizeObserver) {
        new ResizeObserver(() => {
          if (resize()) schedule();
        }).observe(box);
      }
    }

    return { panel: panel, start: start, setSelection: setSelection, setPlayhead: setPlayhead, pin: pin };
  }

  // ------------------------------------------------------------ scorecard

  function fmtValue(v, unit) {
    if (unit === 'count') unit = '';
    if (isNum(v)) {
      if (unit === 'share' || unit === 'ratio' || unit === 'fraction') return pct(v);
      if (unit === '%') return (Math.round(v * 10) / 10) + '%';
      if (unit === 's') return dur(v);
      const r = Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v) : Math.round(v * 100) / 100;
      return String(r) + (unit ? ' ' + unit : '');
    }
    if (typeof v === 'string') return v + (unit ? ' ' + unit : '');
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    const o = obj(v);
    if (o) {
      const lo = o.min !== undefined ? o.min : o.at_least;
      const hi = o.max !== undefined ? o.max : o.at_most;
      if (lo !== undefined && hi !== undefined) return fmtValue(lo, unit) + ' – ' + fmtValue(hi, unit);
      if (lo !== undefined) return '≥ ' + fmtValue(lo, unit);
      if (hi !== undefined) return '≤ ' + fmtValue(hi, unit);
    }
    if (v === null || v === undefined) return '–';
    return JSON.stringify(v);
  }

  function Scorecard(sc) {
    const lines = arr(sc.lines).filter(obj);
    const met = lines.filter((l) => l.meets === true).length;
    const sec = h('section', { class: 'panel', id: 'scorecard' },
      h('h2', { text: 'Active listening' }),
      h('p', { class: 'muted', text: met + ' of ' + lines.length + ' line(s) met. Click a line to see its evidence on the timeline.' }));
    const tbody = h('tbody');
    lines.forEach((l, i) => {
      const ev = intervals(l.evidence);
      const status = l.meets === true ? ['✓', 'ok', 'met'] : l.meets === false ? ['✗', 'bad', 'not met'] : ['–', 'muted', 'not judged'];
      const label = typeof l.label === 'string' ? l.label : typeof l.id === 'string' ? l.id : 'line ' + (i + 1);
      const row = h('tr', { class: 'sc-line', tabindex: '0', data: { i: i } },
        h('td', { class: 'status ' + status[1], title: status[2], text: status[0] }),
        h('td', { class: 'label', text: label }),
        h('td', { class: 'num', text: fmtValue(l.figure, l.unit) }),
        h('td', { class: 'num muted', text: l.target === undefined ? '–' : fmtValue(l.target, l.unit) }),
        h('td', { class: 'num', text: ev.length ? ev.length + ' moment' + (ev.length > 1 ? 's' : '') : 'none' }),
        h('td', { class: 'note', text: typeof l.note === 'string' ? l.note : '' }));
      const go = () => {
        for (const r of tbody.querySelectorAll('tr.sel')) r.classList.remove('sel');
        row.classList.add('sel');
        select({ ranges: ev, source: 'scorecard', label: label });
      };
      row.addEventListener('click', go);
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          go();
        }
      });
      tbody.append(row);
    });
    sec.append(h('div', { class: 'scroll' }, h('table', { class: 'data' },
      h('thead', null, h('tr', null, ...['', 'Line', 'Figure', 'Target', 'Evidence', 'Note'].map((t, i) => h('th', { class: i >= 2 && i <= 4 ? 'num' : null, text: t })))),
      tbody)));
    return sec;
  }

  // ------------------------------------------------------------ transcript

  function Transcript(list) {
    const sec = h('section', { class: 'panel', id: 'transcript' });
    const filterSel = h('select', { 'aria-label': 'show utterances' });
    filterSel.append(h('option', { value: '', text: 'all utterances (' + list.length + ')' }));
    const counts = Object.create(null);
    for (const u of list) for (const m of arr(u.markers)) {
      const n = markerName(m);
      if (n) counts[n] = (counts[n] || 0) + 1;
    }
    const flags = { raised_voice: 'raised voice', monotone: 'monotone' };
    for (const f in flags) {
      const n = list.filter((u) => u[f] === true).length;
      if (n) filterSel.append(h('option', { value: 'flag:' + f, text: flags[f] + ' (' + n + ')' }));
    }
    for (const n of Object.keys(counts).sort()) filterSel.append(h('option', { value: 'm:' + n, text: (MARKER_LABELS[n] || n) + ' (' + counts[n] + ')' }));
    const whoSel = h('select', { 'aria-label': 'speaker' }, h('option', { value: '', text: 'everyone' }),
      ...ids.filter((id) => list.some((u) => u.speaker === id)).map((id) => h('option', { value: id, text: id })));
    sec.append(h('div', { class: 'toolbar' }, h('h2', { text: 'Transcript' }), whoSel, filterSel,
      h('span', { class: 'muted hint', text: 'click an utterance to find it on the timeline' })));
    const box = h('div', { class: 'utts', role: 'list' });
    const rows = [];
    list.forEach((u, i) => {
      const who = typeof u.speaker === 'string' ? u.speaker : '?';
      const text = h('span', { class: 'text' });
      const words = arr(u.words).filter((w) => obj(w) && typeof w.w === 'string');
      if (words.length && words.some((w) => isNum(w.p) && w.p < 0.5)) {
        words.forEach((w, j) => {
          const t = w.w;
          if (j > 0 && !/^\s/.test(t)) text.append(' ');
          if (isNum(w.p) && w.p < 0.5) {
            const lead = /^\s*/.exec(t)[0];
            text.append(lead, h('span', { class: 'lowp', title: 'probability ' + w.p.toFixed(2), text: t.slice(lead.length) }));
          } else text.append(t);
        });
      } else {
        text.textContent = typeof u.text === 'string' ? u.text : words.map((w) => w.w).join(' ');
      }
      const chips = h('span', { class: 'chips' });
      for (const m of arr(u.markers)) {
        const n = markerName(m);
        if (n) chips.append(h('span', { class: 'chip ' + markerClass(n), text: MARKER_LABELS[n] || n, title: typeof m === 'string' ? n : JSON.stringify(m) }));
      }
      if (u.raised_voice === true) chips.append(h('span', { class: 'chip flag-raised', text: 'raised voice' }));
      if (u.monotone === true) chips.append(h('span', { class: 'chip flag-mono', text: 'monotone' }));
      const meta = [];
      if (isNum(u.wpm)) meta.push(Math.round(u.wpm) + ' wpm');
      if (isNum(u.articulation_wpm)) meta.push(Math.round(u.articulation_wpm) + ' wpm articulation');
      const pz = obj(u.pauses);
      if (pz && isNum(pz.count) && pz.count > 0) meta.push(pz.count + ' pause' + (pz.count > 1 ? 's' : '') + (isNum(pz.total_s) ? ' ' + dur(pz.total_s) : '') + (isNum(pz.longest_s) ? ', longest ' + dur(pz.longest_s) : ''));
      if (isNum(u.pitch_median_hz)) meta.push(Math.round(u.pitch_median_hz) + ' Hz');
      if (isNum(u.pitch_sd_semitones)) meta.push('±' + u.pitch_sd_semitones.toFixed(1) + ' st');
      if (isNum(u.loudness_dbfs)) meta.push(u.loudness_dbfs.toFixed(0) + ' dBFS');
      const row = h('div', { class: 'utt', role: 'listitem', tabindex: '0', vars: { '--c': colour[who] || '#555' }, data: { i: i, sp: who } },
        h('span', { class: 't', text: clock(u.start_s, 1) }),
        h('span', { class: 'who', text: who }),
        h('span', { class: 'body' }, text, chips.childNodes.length ? chips : null, meta.length ? h('span', { class: 'meta', text: meta.join(' · ') }) : null));
      const go = () => {
        mark([i]);
        select({ ranges: [[u.start_s, u.end_s]], speaker: who, source: 'transcript' });
      };
      row.addEventListener('click', go);
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          go();
        }
      });
      rows.push(row);
    });
    box.append(...rows);
    sec.append(box);

    function applyFilter() {
      const f = filterSel.value;
      const who = whoSel.value;
      list.forEach((u, i) => {
        let show = !who || u.speaker === who;
        if (show && f.slice(0, 2) === 'm:') show = arr(u.markers).some((m) => markerName(m) === f.slice(2));
        if (show && f.slice(0, 5) === 'flag:') show = u[f.slice(5)] === true;
        rows[i].hidden = !show;
      });
    }
    filterSel.addEventListener('change', applyFilter);
    whoSel.addEventListener('change', applyFilter);

    let marked = [];
    function mark(is) {
      for (const i of marked) rows[i].classList.remove('sel');
      marked = is;
      for (const i of is) rows[i].classList.add('sel');
      if (is.length) {
        const r = rows[is[0]];
        if (r.hidden) {
          filterSel.value = '';
          whoSel.value = '';
          applyFilter();
        }
        box.scrollTop = Math.max(0, r.offsetTop - box.clientHeight / 3);
      }
    }
    /** Marks the utterances overlapping the selection (of its speaker, if it has one). */
    function reveal(sel) {
      const is = [];
      list.forEach((u, i) => {
        if (sel.speaker && u.speaker !== sel.speaker) return;
        if (sel.ranges.some((r) => u.start_s < r[1] && u.end_s > r[0])) is.push(i);
      });
      mark(is);
    }
    let now = -1;
    function playing(t) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (list[m].start_s <= t) lo = m + 1;
        else hi = m;
      }
      const i = lo - 1 >= 0 && list[lo - 1].end_s >= t ? lo - 1 : -1;
      if (i === now) return;
      if (now >= 0) rows[now].classList.remove('now');
      now = i;
      if (i >= 0) rows[i].classList.add('now');
    }
    return { section: sec, reveal: reveal, playing: playing };
  }

  // --------------------------------------------------------------- details

  /** A table; headings of columns from `numFrom` on are aligned as numbers. */
  function table(id, heads, rowsData, numFrom) {
    const from = numFrom === undefined ? 1 : numFrom;
    return h('div', { class: 'scroll' }, h('table', { class: 'data', id: id },
      h('thead', null, h('tr', null, ...heads.map((t, i) => h('th', { class: i >= from ? 'num' : null, text: t })))),
      h('tbody', null, ...rowsData)));
  }
  /** A clickable time range. */
  function rangeLink(a, b, speaker) {
    return h('button', { type: 'button', class: 'link', text: span(a, b), onclick: () => select({ ranges: [[a, b]], speaker: speaker, source: 'details' }) });
  }

  function details() {
    const sec = h('section', { class: 'panel', id: 'details' }, h('h2', { text: 'Figures' }));
    const talk = obj(R.talk);
    if (talk) {
      sec.append(h('h3', { text: 'Talk' }), table('talk-table', ['Speaker', 'Talk time', 'Share of speech', 'Share of call'],
        ids.filter((id) => obj(talk[id])).map((id) => h('tr', null, h('td', null, swatch(id), id), h('td', { class: 'num', text: dur(talk[id].time_s) }),
          h('td', { class: 'num', text: pct(talk[id].share_of_speech) }), h('td', { class: 'num', text: pct(talk[id].share_of_call) })))));
    }
    const sm = obj(R.speaker_metrics);
    if (sm) {
      sec.append(h('h3', { text: 'Turn-taking' }), table('metrics-table',
        ['Speaker', 'Turns', 'Interruptions made', 'Interruptions suffered', 'Backchannels', 'Longest monologue', 'Response latency (median / p90)'],
        ids.filter((id) => obj(sm[id])).map((id) => {
          const m = sm[id];
          const lm = obj(m.longest_monologue);
          const rl = obj(m.response_latency) || {};
          return h('tr', null, h('td', null, swatch(id), id), h('td', { class: 'num', text: isNum(m.turns) ? m.turns : '–' }),
            h('td', { class: 'num', text: isNum(m.interruptions_made) ? m.interruptions_made : '–' }),
            h('td', { class: 'num', text: isNum(m.interruptions_suffered) ? m.interruptions_suffered : '–' }),
            h('td', { class: 'num', text: isNum(m.backchannels_made) ? m.backchannels_made : '–' }),
            h('td', { class: 'num' }, lm && isNum(lm.start_s) && isNum(lm.end_s) ? rangeLink(lm.start_s, lm.end_s, id) : '–', lm && isNum(lm.duration_s) ? ' ' + dur(lm.duration_s) : ''),
            h('td', { class: 'num', text: (isNum(rl.median_s) ? dur(rl.median_s) : '–') + ' / ' + (isNum(rl.p90_s) ? dur(rl.p90_s) : '–') + (isNum(rl.count) ? ' (' + rl.count + ')' : '') }));
        })));
    }
    // Pace and tone per speaker: only the columns some speaker has.
    if (pace || tone) {
      const from = (c, id) => obj((c[0] === 'pace' ? pace : tone) && (c[0] === 'pace' ? pace : tone)[id]) || {};
      const cols = [
        ['pace', 'wpm', 'Words/min', 0], ['pace', 'articulation_wpm', 'Articulation words/min', 0], ['pace', 'syllables_per_s', 'Syllables/s', 1],
        ['tone', 'pitch_median_hz', 'Pitch median, Hz', 0], ['tone', 'pitch_sd_semitones', 'Pitch spread, semitones', 1], ['tone', 'loudness_dbfs', 'Loudness, dBFS', 1],
      ].filter((c) => ids.some((id) => isNum(from(c, id)[c[1]])));
      if (cols.length) {
        sec.append(h('h3', { text: 'Pace and tone' }), table('voice-table', ['Speaker'].concat(cols.map((c) => c[2])),
          ids.map((id) => h('tr', null, h('td', null, swatch(id), id), ...cols.map((c) => h('td', { class: 'num', text: fix(from(c, id)[c[1]], c[3]) }))))));
      }
    }
    if (silences.length) {
      const lst = h('p', { class: 'ranges' });
      silences.slice(0, 200).forEach((p) => lst.append(rangeLink(p[0], p[1]), ' '));
      if (silences.length > 200) lst.append('… ' + (silences.length - 200) + ' more on the timeline');
      sec.append(h('h3', { text: 'Silences (' + silences.length + ')' }), lst);
    }
    if (events.length) sec.append(lazy('Interruptions and backchannels (' + events.length + ')', 'events-table', () => table('events-table', ['At', 'Who', 'Kind', 'Overlap'],
      events.map((e) => {
        const u = Array.isArray(e.utterance) && isNum(e.utterance[0]) ? e.utterance : [e.at_s, e.at_s + (e.overlap_s || 0)];
        return h('tr', null, h('td', null, rangeLink(u[0], u[1], e.interrupter)), h('td', { text: e.interrupter + ' → ' + e.interrupted }),
          h('td', { text: e.kind === 'backchannel' ? 'backchannel' : 'interruption' }), h('td', { class: 'num', text: dur(e.overlap_s) }));
      }), 3)));
    const turns = arr(R.turns).filter((t) => obj(t) && isNum(t.start_s) && isNum(t.end_s));
    if (turns.length) sec.append(lazy('Turns (' + turns.length + ')', 'turns-table', () => table('turns-table', ['Speaker', 'Turn', 'Length', 'Gap before'],
      turns.map((t) => h('tr', null, h('td', null, swatch(t.speaker), String(t.speaker)), h('td', null, rangeLink(t.start_s, t.end_s, t.speaker)),
        h('td', { class: 'num', text: dur(t.end_s - t.start_s) }), h('td', { class: 'num', text: isNum(t.latency_s) ? dur(t.latency_s) : '–' }))), 2)));
    const other = Object.keys(R).filter((k) => KNOWN.indexOf(k) < 0);
    if (other.length) {
      const o = {};
      for (const k of other) o[k] = R[k];
      sec.append(lazy('Other data in the report: ' + other.join(', '), 'other-data', () => h('pre', { class: 'raw', text: JSON.stringify(o, null, 2) })));
    }
    return sec;
  }

  /** A <details> whose content is built when first opened. */
  function lazy(title, id, build) {
    const d = h('details', { id: id + '-details' }, h('summary', { text: title }));
    let built = false;
    d.addEventListener('toggle', () => {
      if (d.open && !built) {
        built = true;
        d.append(build());
      }
    });
    return d;
  }

  // ------------------------------------------------------------------ main

  function main() {
    header();
    const w = warnings();
    if (w) app.append(w);
    const c = cards();
    if (c) app.append(c);
    timeline = Timeline();
    app.append(timeline.panel);
    timeline.start();
    if (scorecard) app.append(Scorecard(scorecard));
    if (transcript.length) {
      transcriptView = Transcript(transcript);
      app.append(transcriptView.section);
    }
    app.append(details());
    if (audio) {
      audio.addEventListener('timeupdate', () => {
        timeline.setPlayhead(audio.currentTime);
        if (transcriptView) transcriptView.playing(audio.currentTime);
      });
      audio.addEventListener('error', () => {
        timeline.panel.insertBefore(h('p', { class: 'notice', text: 'The audio (' + audio.getAttribute('src') + ') cannot be played here: the file is missing or the browser cannot decode it.' }), audio.nextSibling);
      });
    }
    // Keep the timeline in view while reading below it, when it leaves room to read.
    if (timeline.panel.offsetHeight < window.innerHeight * 0.45) {
      timeline.pin.checked = true;
      timeline.panel.classList.add('pinned');
    }
  }

  try {
    main();
  } catch (e) {
    app.prepend(h('p', { class: 'notice bad', text: 'This page could not draw the report: ' + e }));
    throw e;
  } finally {
    // Time from navigation start to a laid-out page (reading offsetHeight forces layout).
    if (document.body.offsetHeight >= 0) root.dataset.renderMs = performance.now().toFixed(1);
    root.dataset.ready = '1';
  }
})();
