#include "robot/browser/keyboard.h"

#include <gtest/gtest.h>

namespace pa::robot::browser {
namespace {

TEST(KeyboardTest, EnterTypesACarriageReturn) {
  auto events = KeyPressEvents("Enter");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0]["type"], "keyDown");
  EXPECT_EQ((*events)[0]["text"], "\r");
  EXPECT_EQ((*events)[0]["windowsVirtualKeyCode"], 13);
  EXPECT_EQ((*events)[1]["type"], "keyUp");
}

TEST(KeyboardTest, CharactersAndNonTypingKeys) {
  auto a = KeyPressEvents("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)[0]["code"], "KeyA");
  EXPECT_EQ((*a)[0]["text"], "a");
  auto ya = KeyPressEvents("Я");
  ASSERT_TRUE(ya.ok());
  EXPECT_EQ((*ya)[0]["text"], "Я");
  auto tab = KeyPressEvents("Tab");
  ASSERT_TRUE(tab.ok());
  EXPECT_EQ((*tab)[0]["type"], "rawKeyDown");
  EXPECT_FALSE((*tab)[0].contains("text"));
}

TEST(KeyboardTest, ModifiersWrapTheKey) {
  auto e = KeyPressEvents("Shift+Tab");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 4u);
  EXPECT_EQ((*e)[0]["key"], "Shift");
  EXPECT_EQ((*e)[1]["key"], "Tab");
  EXPECT_EQ((*e)[1]["modifiers"], 8);
  EXPECT_EQ((*e)[3]["key"], "Shift");
  EXPECT_EQ((*e)[3]["modifiers"], 0);
  auto ctrl = KeyPressEvents("Control+a");
  ASSERT_TRUE(ctrl.ok());
  EXPECT_FALSE((*ctrl)[1].contains("text"));  // a shortcut types nothing
  auto plus = KeyPressEvents("Control++");
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ((*plus)[1]["key"], "+");
}

TEST(KeyboardTest, UnknownKeysAreRefused) {
  EXPECT_EQ(KeyPressEvents("Hyper+Q").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyPressEvents("Enterr").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyPressEvents("").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pa::robot::browser
