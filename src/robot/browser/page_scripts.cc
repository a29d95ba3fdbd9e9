#include "robot/browser/page_scripts.h"

#include "base/json.h"

namespace pa::robot::browser::scripts {
namespace {

// Shared by the DOM helpers: find(selector) → {el, state} or {error}.
constexpr std::string_view kFind = R"JS(
const paVisible = (el) => {
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  const st = getComputedStyle(el);
  return st.visibility !== 'hidden' && st.display !== 'none';
};
const paNorm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const paFind = (sel) => {
  let all;
  if (sel.startsWith('text=')) {
    let t = sel.slice(5).trim();
    let exact = false;
    if (t.length >= 2 && ((t[0] === '"' && t.endsWith('"')) || (t[0] === "'" && t.endsWith("'")))) {
      t = t.slice(1, -1);
      exact = true;
    }
    const want = exact ? paNorm(t) : paNorm(t).toLowerCase();
    const matches = (el) => {
      const s = paNorm(el.innerText);
      return exact ? s === want : s.toLowerCase().includes(want);
    };
    const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'TITLE']);
    const root = document.body || document.documentElement;
    all = [];
    if (root) {
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (skip.has(el.tagName)) continue;
        const tc = paNorm(el.textContent);
        if (!(exact ? tc.includes(want) : tc.toLowerCase().includes(want))) continue;
        if (!matches(el)) continue;
        if ([...el.children].some((c) => !skip.has(c.tagName) && matches(c))) continue;
        all.push(el);
      }
    }
  } else {
    try {
      all = [...document.querySelectorAll(sel)];
    } catch (e) {
      return {error: 'invalid selector ' + JSON.stringify(sel) + ': ' + e.message};
    }
  }
  if (all.length === 0) return {state: 'missing'};
  const el = all.find(paVisible);
  return el ? {el, state: 'visible'} : {el: all[0], state: 'hidden'};
};
)JS";

std::string Call(std::string_view body, const Json& args) {
  std::string out = "(() => {";
  out += kFind;
  out += "return (";
  out += body;
  out += ")(...";
  out += args.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += ");})()";
  return out;
}

}  // namespace

const std::string& VitalsObserver() {
  static const std::string kScript = R"JS((() => {
  if (window !== window.top || window.__primoartVitals) return;
  const v = {lcp: null, cls: 0, inp: null, interactions: 0};
  Object.defineProperty(window, '__primoartVitals', {value: v, enumerable: false});
  const observe = (type, cb, extra) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(cb))
          .observe(Object.assign({type, buffered: true}, extra || {}));
    } catch (e) {}
  };
  observe('largest-contentful-paint', (e) => { v.lcp = e.startTime; });
  let session = 0, first = 0, last = 0;
  observe('layout-shift', (e) => {
    if (e.hadRecentInput) return;
    if (session > 0 && e.startTime - last < 1000 && e.startTime - first < 5000) {
      session += e.value;
    } else {
      session = e.value;
      first = e.startTime;
    }
    last = e.startTime;
    if (session > v.cls) v.cls = session;
  });
  const worst = new Map();
  const record = (id, duration) => {
    worst.set(id, Math.max(worst.get(id) || 0, duration));
    const all = [...worst.values()].sort((a, b) => b - a);
    v.inp = all[Math.min(all.length - 1, Math.floor(all.length / 50))];
    v.interactions = worst.size;
  };
  observe('event', (e) => { if (e.interactionId) record(e.interactionId, e.duration); },
          {durationThreshold: 16});
  observe('first-input', (e) => { record(e.interactionId || 'first', e.duration); });
})();)JS";
  return kScript;
}

std::string CollectVitals() {
  return R"JS((async () => {
  await new Promise((resolve) => {
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    requestAnimationFrame(() => requestAnimationFrame(finish));
    setTimeout(finish, 300);
  });
  const n = performance.getEntriesByType('navigation')[0];
  const v = window.__primoartVitals || {};
  return {
    url: location.href,
    nav: n ? {ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
              status: n.responseStatus || 0, transfer: n.transferSize || 0,
              body: n.encodedBodySize || 0} : null,
    lcp: v.lcp ?? null, cls: v.cls ?? null, inp: v.inp ?? null,
    interactions: v.interactions || 0,
  };
})())JS";
}

std::string ProbeSelector(std::string_view selector) {
  return Call(R"JS((sel) => {
    const f = paFind(sel);
    return f.error ? {error: f.error} : {state: f.state};
  })JS",
              Json::array({selector}));
}

std::string ClickPoint(std::string_view selector) {
  return Call(R"JS((sel) => {
    const f = paFind(sel);
    if (f.error || f.state !== 'visible') return f.error ? {error: f.error} : {state: f.state};
    f.el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    const r = f.el.getBoundingClientRect();
    return {state: 'visible', x: r.left + r.width / 2, y: r.top + r.height / 2};
  })JS",
              Json::array({selector}));
}

std::string PrepareFill(std::string_view selector, std::string_view value) {
  return Call(R"JS((sel, value) => {
    const f = paFind(sel);
    if (f.error || f.state !== 'visible') return f.error ? {error: f.error} : {state: f.state};
    const el = f.el;
    if (el.disabled) return {error: 'the field ' + sel + ' is disabled'};
    el.scrollIntoView({block: 'center', behavior: 'instant'});
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
      if (el.readOnly) return {error: 'the field ' + sel + ' is read-only'};
      const direct = ['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range'];
      el.focus();
      if (direct.includes(el.type)) {
        el.value = value;
        el.dispatchEvent(new Event('input', {bubbles: true}));
        el.dispatchEvent(new Event('change', {bubbles: true}));
        return {state: 'visible', typed: false};
      }
      el.value = '';
      el.dispatchEvent(new Event('input', {bubbles: true}));
      return {state: 'visible', typed: true};
    }
    if (el.isContentEditable) {
      el.focus();
      const range = document.createRange();
      range.selectNodeContents(el);
      const s = window.getSelection();
      s.removeAllRanges();
      s.addRange(range);
      document.execCommand('delete');
      return {state: 'visible', typed: true};
    }
    return {error: sel + ' is a <' + el.tagName.toLowerCase() + '>, not a text field'};
  })JS",
              Json::array({selector, value}));
}

std::string SelectOption(std::string_view selector, std::string_view value) {
  return Call(R"JS((sel, value) => {
    const f = paFind(sel);
    if (f.error || f.state === 'missing') return f.error ? {error: f.error} : {state: f.state};
    const el = f.el;
    if (el.tagName !== 'SELECT') {
      return {error: sel + ' is a <' + el.tagName.toLowerCase() + '>, not a <select>'};
    }
    if (el.disabled) return {error: 'the list ' + sel + ' is disabled'};
    const options = [...el.options];
    const option = options.find((o) => o.value === value) ||
                   options.find((o) => paNorm(o.label || o.text) === paNorm(value));
    if (!option) return {error: sel + ' has no option ' + JSON.stringify(value)};
    option.selected = true;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    return {state: 'visible', selected: true};
  })JS",
              Json::array({selector, value}));
}

std::string ReadText(std::string_view selector) {
  return Call(R"JS((sel) => {
    if (sel === '') {
      const root = document.body || document.documentElement;
      return {found: !!root, text: root ? root.innerText : ''};
    }
    const f = paFind(sel);
    if (f.error) return {error: f.error};
    if (f.state === 'missing') return {found: false, text: ''};
    return {found: true, text: f.el.innerText || f.el.textContent || ''};
  })JS",
              Json::array({selector}));
}

std::string PageHasText(std::string_view text) {
  return Call(R"JS((text) => {
    const root = document.body || document.documentElement;
    return !!root && (root.innerText || '').includes(text);
  })JS",
              Json::array({text}));
}

}  // namespace pa::robot::browser::scripts
