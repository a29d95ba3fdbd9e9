#include "robot/browser/keyboard.h"

#include <cctype>
#include <string>

namespace pa::robot::browser {
namespace {

struct KeyDef {
  std::string_view key, code;
  int key_code;
  std::string_view text;  // "" when the key types nothing
};

constexpr KeyDef kNamedKeys[] = {
    {"Enter", "Enter", 13, "\r"},
    {"Tab", "Tab", 9, ""},
    {"Escape", "Escape", 27, ""},
    {"Backspace", "Backspace", 8, ""},
    {"Delete", "Delete", 46, ""},
    {" ", "Space", 32, " "},
    {"ArrowLeft", "ArrowLeft", 37, ""},
    {"ArrowUp", "ArrowUp", 38, ""},
    {"ArrowRight", "ArrowRight", 39, ""},
    {"ArrowDown", "ArrowDown", 40, ""},
    {"Home", "Home", 36, ""},
    {"End", "End", 35, ""},
    {"PageUp", "PageUp", 33, ""},
    {"PageDown", "PageDown", 34, ""},
    {"Insert", "Insert", 45, ""},
    {"F1", "F1", 112, ""},
    {"F2", "F2", 113, ""},
    {"F3", "F3", 114, ""},
    {"F4", "F4", 115, ""},
    {"F5", "F5", 116, ""},
    {"F6", "F6", 117, ""},
    {"F7", "F7", 118, ""},
    {"F8", "F8", 119, ""},
    {"F9", "F9", 120, ""},
    {"F10", "F10", 121, ""},
    {"F11", "F11", 122, ""},
    {"F12", "F12", 123, ""},
};

struct Modifier {
  std::string_view name, code;
  int key_code, bit;
};

constexpr Modifier kModifiers[] = {
    {"Alt", "AltLeft", 18, 1},
    {"Control", "ControlLeft", 17, 2},
    {"Meta", "MetaLeft", 91, 4},
    {"Shift", "ShiftLeft", 16, 8},
};

// Whether `s` is exactly one UTF-8 encoded code point.
bool IsOneCodePoint(std::string_view s) {
  if (s.empty()) return false;
  auto lead = static_cast<unsigned char>(s[0]);
  size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : 4;
  return s.size() == len;
}

Json KeyEvent(std::string_view type, std::string_view key, std::string_view code, int key_code,
              int modifiers, std::string_view text) {
  Json e = {{"type", type},
            {"key", key},
            {"code", code},
            {"windowsVirtualKeyCode", key_code},
            {"nativeVirtualKeyCode", key_code},
            {"modifiers", modifiers}};
  if (!text.empty()) {
    e["text"] = text;
    e["unmodifiedText"] = text;
  }
  return e;
}

}  // namespace

Result<std::vector<Json>> KeyPressEvents(std::string_view key) {
  const std::string original(key);
  std::vector<const Modifier*> held;
  int modifiers = 0;
  // "Control++" presses '+' with Control: split only on a '+' that has a key after it.
  for (size_t plus = key.find('+'); plus != std::string_view::npos && plus + 1 < key.size();
       plus = key.find('+')) {
    std::string_view name = key.substr(0, plus);
    const Modifier* found = nullptr;
    for (const Modifier& m : kModifiers) {
      if (m.name == name) found = &m;
    }
    if (found == nullptr) {
      return InvalidArgumentError("unknown modifier '" + std::string(name) + "' in key '" +
                                  original + "' (Control, Shift, Alt, Meta)");
    }
    held.push_back(found);
    modifiers |= found->bit;
    key = key.substr(plus + 1);
  }
  if (key == "Space") key = " ";

  std::string code, text, key_name(key);
  int key_code = 0;
  bool known = false;
  for (const KeyDef& d : kNamedKeys) {
    if (d.key == key) {
      code = d.code;
      key_code = d.key_code;
      text = d.text;
      known = true;
    }
  }
  if (!known && IsOneCodePoint(key)) {
    known = true;
    text = key_name;
    const char c = key[0];
    if (key.size() == 1 && std::isalpha(static_cast<unsigned char>(c))) {
      code = std::string("Key") + static_cast<char>(std::toupper(c));
      key_code = std::toupper(c);
    } else if (key.size() == 1 && std::isdigit(static_cast<unsigned char>(c))) {
      code = std::string("Digit") + c;
      key_code = c;
    }
  }
  if (!known) {
    return InvalidArgumentError("unknown key '" + original +
                                "' (use a KeyboardEvent.key name such as Enter, Tab, ArrowDown, "
                                "or one character)");
  }
  if ((modifiers & ~8) != 0) text.clear();  // Control+x, Alt+x: a shortcut, not typing

  std::vector<Json> events;
  int down_mods = 0;
  for (const Modifier* m : held) {
    down_mods |= m->bit;
    events.push_back(KeyEvent("rawKeyDown", m->name, m->code, m->key_code, down_mods, ""));
  }
  events.push_back(
      KeyEvent(text.empty() ? "rawKeyDown" : "keyDown", key_name, code, key_code, modifiers, text));
  events.push_back(KeyEvent("keyUp", key_name, code, key_code, modifiers, ""));
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    down_mods &= ~(*it)->bit;
    events.push_back(KeyEvent("keyUp", (*it)->name, (*it)->code, (*it)->key_code, down_mods, ""));
  }
  return events;
}

}  // namespace pa::robot::browser
