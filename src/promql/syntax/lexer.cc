#include "promql/syntax/lexer.h"

#include <cstdint>

#include "fmt/format.h"

namespace pa::promql {
namespace {

bool IsSpace(int r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsDigit(int r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsAlphaNumeric(int r) { return IsAlpha(r) || IsDigit(r); }

constexpr int kEofRune = -1;
constexpr int kBadRune = -2;

// Follows lex.go's state machine; each Lex* method consumes one token (or skips input).
class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  std::vector<Token> Run() {
    while (true) {
      const bool done = Step();
      if (done) break;
    }
    return std::move(tokens_);
  }

 private:
  // Decodes the rune at pos_ (a byte for ASCII, a code point for valid UTF-8, kBadRune for
  // invalid bytes) and advances.
  int Next() {
    if (pos_ >= in_.size()) {
      width_ = 0;
      return kEofRune;
    }
    const auto c = static_cast<unsigned char>(in_[pos_]);
    if (c < 0x80) {
      width_ = 1;
      ++pos_;
      return c;
    }
    int len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && pos_ + len <= in_.size();
    for (int i = 1; ok && i < len; ++i) {
      const auto cc = static_cast<unsigned char>(in_[pos_ + i]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))) {
      ok = false;
    }
    if (!ok) {
      width_ = 1;
      ++pos_;
      return kBadRune;
    }
    width_ = len;
    pos_ += len;
    return static_cast<int>(cp);
  }
  void Backup() { pos_ -= width_; }
  int Peek() {
    const int r = Next();
    Backup();
    return r;
  }
  bool Accept(std::string_view valid) {
    const int r = Next();
    if (r >= 0 && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) {
      return true;
    }
    Backup();
    return false;
  }
  void AcceptRun(std::string_view valid) {
    while (Accept(valid)) {
    }
  }
  void Emit(TokenType t) {
    tokens_.push_back(
        Token{t, static_cast<int>(start_), std::string(in_.substr(start_, pos_ - start_))});
    start_ = pos_;
  }
  void Ignore() { start_ = pos_; }
  // Ends lexing with an error token.
  bool Error(std::string message) {
    tokens_.push_back(Token{TokenType::kError, static_cast<int>(start_), std::move(message)});
    return true;
  }
  // Go's %q of a rune (EOF is -1, printed as the replacement character).
  static std::string Quote(int r) {
    if (r == kEofRune || r == kBadRune) return "'\xEF\xBF\xBD'";
    if (r == '\'') return "'\\''";
    if (r >= 0x20 && r < 0x7f) return fmt::format("'{}'", static_cast<char>(r));
    return fmt::format("U+{:04X}", r < 0 ? 0xFFFD : r);
  }

  // Go's %#U of a rune: U+0071 'q'.
  static std::string QuoteU(int r) {
    if (r < 0) r = 0xFFFD;
    if (r >= 0x20 && r < 0x7f) return fmt::format("U+{:04X} '{}'", r, static_cast<char>(r));
    return fmt::format("U+{:04X}", r);
  }

  // One step of lexStatements (or lexInsideBraces). Returns true when lexing is over.
  bool Step() {
    if (brace_open_) return InsideBraces();
    if (in_.substr(pos_).starts_with("#")) {
      SkipComment();
      return false;
    }
    const int r = Next();
    if (r == kEofRune) {
      if (paren_depth_ != 0) return Error("unclosed left parenthesis");
      if (bracket_open_) return Error("unclosed left bracket");
      Emit(TokenType::kEof);
      return true;
    }
    static constexpr std::pair<char, TokenType> kSingle[] = {
        {',', TokenType::kComma}, {'*', TokenType::kMul}, {'/', TokenType::kDiv},
        {'%', TokenType::kMod},   {'+', TokenType::kAdd}, {'-', TokenType::kSub},
        {'^', TokenType::kPow},   {'@', TokenType::kAt},
    };
    for (const auto& [c, type] : kSingle) {
      if (r == c) {
        Emit(type);
        return false;
      }
    }
    switch (r) {
      case '=': {
        const int t = Peek();
        if (t == '=') {
          Next();
          Emit(TokenType::kEqlc);
        } else if (t == '~') {
          return Error("unexpected character after '=': " + Quote(t));
        } else {
          Emit(TokenType::kAssign);
        }
        return false;
      }
      case '!': {
        const int t = Next();
        if (t != '=') return Error("unexpected character after '!': " + Quote(t));
        Emit(TokenType::kNeq);
        return false;
      }
      case '<':
        if (Peek() == '=') {
          Next();
          Emit(TokenType::kLte);
        } else {
          Emit(TokenType::kLss);
        }
        return false;
      case '>':
        if (Peek() == '=') {
          Next();
          Emit(TokenType::kGte);
        } else {
          Emit(TokenType::kGtr);
        }
        return false;
      case '"':
      case '\'':
        return LexString(static_cast<char>(r));
      case '`':
        return LexRawString();
      case '(':
        Emit(TokenType::kLeftParen);
        ++paren_depth_;
        return false;
      case ')':
        Emit(TokenType::kRightParen);
        --paren_depth_;
        if (paren_depth_ < 0) return Error("unexpected right parenthesis ')'");
        return false;
      case '{':
        Emit(TokenType::kLeftBrace);
        brace_open_ = true;
        return false;
      case '[':
        if (bracket_open_) return Error("unexpected left bracket '['");
        got_colon_ = false;
        Emit(TokenType::kLeftBracket);
        while (IsSpace(Peek())) Next();
        Ignore();
        bracket_open_ = true;
        return LexDuration();
      case ']':
        if (!bracket_open_) return Error("unexpected right bracket ']'");
        Emit(TokenType::kRightBracket);
        bracket_open_ = false;
        return false;
      default:
        break;
    }
    if (IsSpace(r)) {
      while (IsSpace(Peek())) Next();
      Ignore();
      return false;
    }
    if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
      Backup();
      return LexNumberOrDuration();
    }
    if (IsAlpha(r) || r == ':') {
      if (!bracket_open_) {
        Backup();
        return LexKeywordOrIdentifier();
      }
      if (got_colon_) return Error("unexpected colon " + Quote(r));
      Emit(TokenType::kColon);
      got_colon_ = true;
      return false;
    }
    return Error("unexpected character: " + Quote(r));
  }

  bool InsideBraces() {
    if (in_.substr(pos_).starts_with("#")) {
      SkipComment();
      return false;
    }
    const int r = Next();
    if (r == kEofRune) return Error("unexpected end of input inside braces");
    if (IsSpace(r)) {
      while (IsSpace(Peek())) Next();
      Ignore();
      return false;
    }
    if (IsAlpha(r)) {
      while (IsAlphaNumeric(Next())) {
      }
      Backup();
      Emit(TokenType::kIdentifier);
      return false;
    }
    switch (r) {
      case ',':
        Emit(TokenType::kComma);
        return false;
      case '"':
      case '\'':
        return LexString(static_cast<char>(r));
      case '`':
        return LexRawString();
      case '=':
        if (Next() == '~') {
          Emit(TokenType::kEqlRegex);
          return false;
        }
        Backup();
        Emit(TokenType::kAssign);
        return false;
      case '!': {
        const int nr = Next();
        if (nr == '~') {
          Emit(TokenType::kNeqRegex);
        } else if (nr == '=') {
          Emit(TokenType::kNeq);
        } else {
          return Error("unexpected character after '!' inside braces: " + Quote(nr));
        }
        return false;
      }
      case '{':
        return Error("unexpected left brace '{'");
      case '}':
        Emit(TokenType::kRightBrace);
        brace_open_ = false;
        return false;
      default:
        return Error("unexpected character inside braces: " + Quote(r));
    }
  }

  void SkipComment() {
    while (true) {
      const int r = Next();
      if (r == kEofRune || r == '\n' || r == '\r') break;
    }
    if (width_ > 0) Backup();
    Ignore();
  }

  static int DigitVal(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return 16;
  }

  // Validates one escape sequence; the backslash has been read.
  bool LexEscape(char quote) {
    int ch = Next();
    int n = 0;
    uint32_t base = 0;
    uint32_t max = 0;
    if (ch >= 0 && ch < 0x80 &&
        std::string_view("abfnrtv\\").find(static_cast<char>(ch)) != std::string_view::npos) {
      return false;
    }
    switch (ch) {
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        n = 3;
        base = 8;
        max = 255;
        break;
      case 'x':
        ch = Next();
        n = 2;
        base = 16;
        max = 255;
        break;
      case 'u':
        ch = Next();
        n = 4;
        base = 16;
        max = 0x10FFFF;
        break;
      case 'U':
        ch = Next();
        n = 8;
        base = 16;
        max = 0x10FFFF;
        break;
      case kEofRune:
        return Error("escape sequence not terminated");
      default:
        if (ch == quote) return false;
        return Error(fmt::format("unknown escape sequence {}", QuoteU(ch)));
    }
    uint32_t x = 0;
    while (n > 0) {
      const auto d = static_cast<uint32_t>(DigitVal(ch));
      if (d >= base) {
        if (ch == kEofRune) return Error("escape sequence not terminated");
        return Error(fmt::format("illegal character {} in escape sequence", QuoteU(ch)));
      }
      x = x * base + d;
      --n;
      if (n > 0) ch = Next();
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
      return Error("escape sequence is an invalid Unicode code point");
    }
    return false;
  }

  bool LexString(char quote) {
    while (true) {
      const int r = Next();
      if (r == '\\') {
        if (LexEscape(quote)) return true;
        continue;
      }
      if (r == kBadRune) return Error("invalid UTF-8 rune");
      if (r == kEofRune || r == '\n') return Error("unterminated quoted string");
      if (r == quote) break;
    }
    Emit(TokenType::kString);
    return false;
  }

  bool LexRawString() {
    while (true) {
      const int r = Next();
      if (r == kBadRune) return Error("invalid UTF-8 rune");
      if (r == kEofRune) return Error("unterminated raw string");
      if (r == '`') break;
    }
    Emit(TokenType::kString);
    return false;
  }

  // Prometheus 2.42's scanNumber: digits (hex after 0x), optional fraction and exponent; the next
  // rune must not be alphanumeric.
  bool ScanNumber() {
    std::string_view digits = "0123456789";
    if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789");
    }
    return !IsAlphaNumeric(Peek());
  }

  bool AcceptRemainingDuration() {
    if (!Accept("smhdwy")) return false;
    Accept("s");
    while (Accept("0123456789")) {
      AcceptRun("0123456789");
      if (!Accept("smhdw")) return false;
      Accept("s");
    }
    return !IsAlphaNumeric(Next());
  }

  bool LexNumberOrDuration() {
    if (ScanNumber()) {
      Emit(TokenType::kNumber);
      return false;
    }
    if (AcceptRemainingDuration()) {
      Backup();
      Emit(TokenType::kDuration);
      return false;
    }
    return Error(
        fmt::format("bad number or duration syntax: \"{}\"", in_.substr(start_, pos_ - start_)));
  }

  bool LexDuration() {
    if (ScanNumber()) return Error("missing unit character in duration");
    if (!AcceptRemainingDuration()) {
      return Error(fmt::format("bad duration syntax: \"{}\"", in_.substr(start_, pos_ - start_)));
    }
    Backup();
    Emit(TokenType::kDuration);
    return false;
  }

  bool LexKeywordOrIdentifier() {
    while (true) {
      const int r = Next();
      if (IsAlphaNumeric(r) || r == ':') continue;
      Backup();
      break;
    }
    const std::string_view word = in_.substr(start_, pos_ - start_);
    std::string lower(word);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    const auto& kw = Keywords();
    if (auto it = kw.find(lower); it != kw.end()) {
      Emit(it->second);
    } else if (word.find(':') == std::string_view::npos) {
      Emit(TokenType::kIdentifier);
    } else {
      Emit(TokenType::kMetricIdentifier);
    }
    return false;
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t start_ = 0;
  size_t width_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Lex(std::string_view input) { return Lexer(input).Run(); }

}  // namespace pa::promql
