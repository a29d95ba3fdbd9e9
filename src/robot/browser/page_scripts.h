// The JavaScript the browser runner evaluates in pages: the web-vitals observer injected into
// every document, the collector that reads it back with the navigation timing, and the DOM
// helpers behind the actions (finding an element by CSS or `text=`, its click point, filling,
// selecting, reading text).
//
// Each helper is an expression built from a function and JSON arguments, so no page state is
// needed and nothing the page defines can be called by mistake. The expressions return plain
// JSON values (Runtime.evaluate with returnByValue); the shapes are documented per function.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace pa::robot::browser::scripts {

// Injected with Page.addScriptToEvaluateOnNewDocument: buffered PerformanceObservers for
// largest-contentful-paint (LCP), layout-shift (CLS: the largest session window of shifts
// without recent input, as web-vitals computes it) and event/first-input (INP: the worst
// interaction, one ignored per 50), kept in a non-enumerable `window.__primoartVitals`.
const std::string& VitalsObserver();

// Awaits two animation frames (at most 300 ms, so observers deliver pending entries), then
// {"url": string, "nav": null | {"ttfb", "dcl", "load", "status", "transfer", "body"},
//  "lcp": number|null, "cls": number|null, "inp": number|null, "interactions": number}.
// Times are ms from the navigation's start.
std::string CollectVitals();

// {"state": "missing" | "hidden" | "visible"}; {"error": message} for an invalid selector.
std::string ProbeSelector(std::string_view selector);

// Scrolls the first visible match into view: {"state": "visible", "x": n, "y": n} with the
// centre in viewport CSS pixels, or {"state": "missing" | "hidden"} or {"error": ...}.
std::string ClickPoint(std::string_view selector);

// Focuses the first visible match and empties it (input/textarea, or contenteditable), so that
// Input.insertText then types `value`. Inputs that take no typing (date, color, range, ...) get
// `value` set directly with input/change events: {"state": "visible", "typed": false}.
// Otherwise {"state": "visible", "typed": true}, or a state/error as ProbeSelector; a disabled
// or read-only field gives {"error": ...}.
std::string PrepareFill(std::string_view selector, std::string_view value);

// Selects the option of the <select> whose value (else whose label) is `value`, with input and
// change events: {"state": "visible", "selected": true}, {"error": ...} (not a select, no such
// option), or a state as ProbeSelector.
std::string SelectOption(std::string_view selector, std::string_view value);

// {"found": bool, "text": innerText} of the first match of `selector`, or of the body when it
// is empty; {"error": ...} for an invalid selector.
std::string ReadText(std::string_view selector);

// true when the page's visible text contains `text`.
std::string PageHasText(std::string_view text);

}  // namespace pa::robot::browser::scripts
