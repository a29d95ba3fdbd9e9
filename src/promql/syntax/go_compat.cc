#include "promql/syntax/go_compat.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "base/strings.h"

namespace pa::promql {
namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.ParseInt(s, 0, 64) for the forms the lexer produces: decimal, 0x hex, leading-0 octal.
std::optional<int64_t> ParseIntBase0(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    const int d = HexVal(c);
    if (d < 0 || d >= base) return std::nullopt;
    if (v > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) / base) {
      return std::nullopt;
    }
    v = v * base + static_cast<uint64_t>(d);
  }
  const uint64_t limit = neg ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
  if (v > limit) return std::nullopt;
  return neg ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v);
}

}  // namespace

std::optional<double> ParseGoFloat(std::string_view s, bool* out_of_range) {
  if (out_of_range != nullptr) *out_of_range = false;
  if (s.empty()) return std::nullopt;
  bool neg = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreCase(s, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (body.empty()) return std::nullopt;
  for (char c : body) {
    // from_chars would accept these spellings; Go does not (or handled them above).
    if (c == 'n' || c == 'N' || c == 'i' || c == 'I' || c == '_') return std::nullopt;
  }
  double v = 0;
  std::chars_format fmt = std::chars_format::general;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    body.remove_prefix(2);
    if (body.find_first_of("pP") == std::string_view::npos) return std::nullopt;
    fmt = std::chars_format::hex;
  }
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), v, fmt);
  if (ptr != body.data() + body.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    if (fmt == std::chars_format::hex) return std::nullopt;
    // Overflow is an error in Go; underflow rounds to a denormal or zero.
    const std::string copy(body);
    v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v)) {
      if (out_of_range != nullptr) *out_of_range = true;
      return std::nullopt;
    }
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return neg ? -v : v;
}

std::optional<double> ParseNumberLiteral(std::string_view s) {
  if (auto i = ParseIntBase0(s)) return static_cast<double>(*i);
  return ParseGoFloat(s);
}

std::string FormatGoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // The shortest digits that round-trip, laid out without exponent as Go's fmtF does (to_chars
  // in fixed format would print the exact binary value's digits instead).
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  if (ec != std::errc()) return "NaN";  // cannot happen: the buffer fits any double
  const std::string_view sci(buf, static_cast<size_t>(ptr - buf));
  const size_t e_pos = sci.find('e');
  std::string digits;
  bool negative = false;
  for (char c : sci.substr(0, e_pos)) {
    if (c == '-') negative = true;
    if (c >= '0' && c <= '9') digits += c;
  }
  const int exp = std::stoi(std::string(sci.substr(e_pos + 1)));
  const int nd = static_cast<int>(digits.size());
  const int dp = exp + 1;  // position of the decimal point relative to the digits
  std::string out = negative ? "-" : "";
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) out += i < nd ? digits[static_cast<size_t>(i)] : '0';
  } else {
    out += '0';
  }
  const int frac = std::max(nd - dp, 0);
  if (frac > 0) {
    out += '.';
    for (int i = 0; i < frac; ++i) {
      const int j = dp + i;
      out += j >= 0 && j < nd ? digits[static_cast<size_t>(j)] : '0';
    }
  }
  return out;
}

std::optional<int64_t> ParsePromDuration(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  // Units in the only order model.ParseDuration accepts; "ms" must be tried before "m".
  struct Unit {
    std::string_view suffix;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {
      {"y", 365LL * 24 * 3600 * 1000},
      {"w", 7LL * 24 * 3600 * 1000},
      {"d", 24LL * 3600 * 1000},
      {"h", 3600LL * 1000},
      {"m", 60LL * 1000},
      {"s", 1000},
      {"ms", 1},
  };
  // Durations are held in ns by Go's time.Duration, which bounds them.
  constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 1000000;
  size_t next_unit = 0;
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i) return std::nullopt;
    const std::string_view digits = s.substr(i, j - i);
    size_t u = next_unit;
    bool found = false;
    for (; u < std::size(kUnits); ++u) {
      const std::string_view suf = kUnits[u].suffix;
      if (s.substr(j, suf.size()) != suf) continue;
      // "m" must not swallow the "m" of "ms".
      if (suf == "m" && s.substr(j, 2) == "ms") continue;
      found = true;
      break;
    }
    if (!found) return std::nullopt;
    int64_t n = 0;
    for (char c : digits) {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    if (n > kMaxMs / kUnits[u].ms) return std::nullopt;
    total += n * kUnits[u].ms;
    if (total > kMaxMs) return std::nullopt;
    next_unit = u + 1;
    i = j + kUnits[u].suffix.size();
  }
  return total;
}

std::optional<std::string> UnquotePromString(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  const char quote = s[0];
  if (quote != s.back()) return std::nullopt;
  s = s.substr(1, s.size() - 2);
  if (quote == '`') {
    if (s.find('`') != std::string_view::npos) return std::nullopt;
    return std::string(s);
  }
  if (quote != '"' && quote != '\'') return std::nullopt;
  if (s.find('\n') != std::string_view::npos) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  auto append_utf8 = [&out](uint32_t r) {
    if (r < 0x80) {
      out += static_cast<char>(r);
    } else if (r < 0x800) {
      out += static_cast<char>(0xC0 | (r >> 6));
      out += static_cast<char>(0x80 | (r & 0x3F));
    } else if (r < 0x10000) {
      out += static_cast<char>(0xE0 | (r >> 12));
      out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (r & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (r >> 18));
      out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (r & 0x3F));
    }
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == quote) return std::nullopt;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
      case '"':
        if (e != quote) return std::nullopt;
        out += e;
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        if (s.size() - i < n) return std::nullopt;
        uint32_t v = 0;
        for (size_t j = 0; j < n; ++j) {
          const int d = HexVal(s[i + j]);
          if (d < 0) return std::nullopt;
          v = (v << 4) | static_cast<uint32_t>(d);
        }
        i += n;
        if (e == 'x') {
          out += static_cast<char>(v);  // a single byte, possibly not UTF-8, as in Go
        } else {
          if (v > 0x10FFFF) return std::nullopt;
          if (v >= 0xD800 && v < 0xE000) v = 0xFFFD;
          append_utf8(v);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        uint32_t v = static_cast<uint32_t>(e - '0');
        if (s.size() - i < 2) return std::nullopt;
        for (size_t j = 0; j < 2; ++j) {
          const int x = s[i + j] - '0';
          if (x < 0 || x > 7) return std::nullopt;
          v = (v << 3) | static_cast<uint32_t>(x);
        }
        i += 2;
        if (v > 255) return std::nullopt;
        out += static_cast<char>(v);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

bool IsValidLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

double GoMax(double a, double b) {
  if ((std::isinf(a) && a > 0) || (std::isinf(b) && b > 0)) {
    return std::numeric_limits<double>::infinity();
  }
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == 0 && a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

double GoMin(double a, double b) {
  if ((std::isinf(a) && a < 0) || (std::isinf(b) && b < 0)) {
    return -std::numeric_limits<double>::infinity();
  }
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == 0 && a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

namespace {

bool CpuHasFma() {
#if defined(__x86_64__)
  static const bool kHas = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return kHas;
#else
  return false;
#endif
}

uint64_t Bits(double x) { return std::bit_cast<uint64_t>(x); }

}  // namespace

// GoExp and GoLog reproduce, operation for operation, the algorithms of Go's math package on
// amd64 (Copyright 2009 The Go Authors; BSD-style licence, see docs/THIRD_PARTY.md), whose Log
// is fdlibm's e_log.c (Copyright 1993 Sun Microsystems). Matching Prometheus bit for bit at the
// edges needs the same sequence of roundings, not just an accurate exp/log.
double GoExp(double x) {
  // Go's src/math/exp_amd64.s (Shibata's method), FMA path where Go takes it.
  constexpr double kLog2E = 1.4426950408889634073599246810018920;
  constexpr double kLn2U = 0.69314718055966295651160180568695068359375;
  constexpr double kLn2L = 0.28235290563031577122588448175013436025525412068e-12;
  constexpr double kOverflow = 7.09782712893384e+02;
  constexpr double kC[] = {2.4801587301587301587e-5,
                           1.9841269841269841270e-4,
                           1.3888888888888888889e-3,
                           8.3333333333333333333e-3,
                           4.1666666666666666667e-2,
                           1.6666666666666666667e-1,
                           0.5,
                           1.0};
  if (std::isnan(x) || x == std::numeric_limits<double>::infinity()) return x;
  if (x == -std::numeric_limits<double>::infinity()) return 0;
  if (x > kOverflow) return std::numeric_limits<double>::infinity();
  // CVTSD2SL: round to nearest even (the default MXCSR mode).
  int64_t k = static_cast<int64_t>(std::nearbyint(x * kLog2E));
  const double kd = static_cast<double>(k);
  double r = x;
  double p = kC[0];
  if (CpuHasFma()) {
    r = std::fma(-kd, kLn2U, r);
    r = std::fma(-kd, kLn2L, r);
    r *= 0.0625;
    for (int i = 1; i < 8; ++i) p = std::fma(p, r, kC[i]);
    r *= p;
    for (int i = 0; i < 3; ++i) r *= r + 2.0;
    r = std::fma(r, r + 2.0, 1.0);
  } else {
    r -= kd * kLn2U;
    r -= kd * kLn2L;
    r *= 0.0625;
    for (int i = 1; i < 8; ++i) p = p * r + kC[i];
    r *= p;
    for (int i = 0; i < 4; ++i) r *= r + 2.0;
    r += 1.0;
  }
  k += 0x3FF;
  if (k <= 0) return 0;
  if (k >= 0x7FF) return std::numeric_limits<double>::infinity();
  return r * std::bit_cast<double>(static_cast<uint64_t>(k) << 52);
}

double GoLog(double x) {
  // Go's src/math/log_amd64.s: FreeBSD's algorithm with a bit-level frexp that does not
  // normalise subnormal inputs.
  constexpr double kHSqrt2 = 7.07106781186547524401e-01;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kL1 = 6.666666666666735130e-01, kL2 = 3.999999999940941908e-01,
                   kL3 = 2.857142874366239149e-01, kL4 = 2.222219843214978396e-01,
                   kL5 = 1.818357216161805012e-01, kL6 = 1.531383769920937332e-01,
                   kL7 = 1.479819860511658591e-01;
  const uint64_t bits = Bits(x);
  if ((bits & ~(uint64_t{1} << 63)) == 0) return -std::numeric_limits<double>::infinity();
  if (static_cast<int64_t>(bits) < 0) return std::numeric_limits<double>::quiet_NaN();
  if (bits >= Bits(std::numeric_limits<double>::infinity())) return x;  // +Inf or NaN
  double f1 = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFULL) | Bits(0.5));
  double k = static_cast<double>(static_cast<int64_t>((bits >> 52) & 0x7FF) - 0x3FE);
  const double adjust = f1 < kHSqrt2 ? 1.0 : 0.0;
  k -= adjust;
  f1 *= adjust + 1.0;
  const double f = f1 - 1.0;
  const double s = f / (2.0 + f);
  const double s2 = s * s;
  const double s4 = s2 * s2;
  const double t1 = s2 * (kL1 + s4 * (kL3 + s4 * (kL5 + s4 * kL7)));
  const double t2 = s4 * (kL2 + s4 * (kL4 + s4 * kL6));
  const double r = t1 + t2;
  const double hfsq = 0.5 * f * f;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + k * kLn2Lo)) - f);
}

double GoLog2(double x) {
  int exp = 0;
  const double frac = std::frexp(x, &exp);
  if (std::isnan(x) || std::isinf(x)) exp = 0;
  if (frac == 0.5) return static_cast<double>(exp - 1);
  return GoLog(frac) * 1.4426950408889634073599246810018921 + static_cast<double>(exp);
}

double GoLog10(double x) { return GoLog(x) * 0.43429448190325182765112891891660508; }

int64_t GoFloatToInt64(double f) {
  if (std::isnan(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

}  // namespace pa::promql
