// Keyboard: turns a `press` action's key name into the Input.dispatchKeyEvent messages a real
// keyboard would produce.
//
//   PA_ASSIGN_OR_RETURN(std::vector<Json> events, KeyPressEvents("Enter"));
//   for (const Json& e : events) cdp.Call("Input.dispatchKeyEvent", e, session, deadline);
//
// Names follow KeyboardEvent.key: "Enter", "Tab", "Escape", "Backspace", "Delete", "Space" or
// " ", arrows ("ArrowDown"), "Home", "End", "PageUp", "PageDown", "Insert", "F1".."F12", or one
// printable character ("a", "Я", "7"). Modifiers are joined with '+': "Shift+Tab",
// "Control+Enter" (Control, Shift, Alt, Meta). Keys with a modifier other than Shift type no
// text; editor shortcuts such as Control+A are delivered as key events only.
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace pa::robot::browser {

// The params of every Input.dispatchKeyEvent to send, in order (modifier downs, the key's
// down and up, modifier ups). kInvalidArgument naming the key when it is not one of the above.
Result<std::vector<Json>> KeyPressEvents(std::string_view key);

}  // namespace pa::robot::browser
