#include "gateway/multipart.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"

namespace pa::gateway {
namespace {

// ---- Characters ----------------------------------------------------------------------------

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Control characters other than HT; never valid in a header value.
bool IsCtl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 9110 tchar: header names, media types, parameter names.
bool IsTchar(char c) {
  return IsAlnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

// RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace.
bool IsValidBoundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  for (char c : b) {
    if (!IsAlnum(c) && std::string_view("'()+_,-./:=? ").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = AsciiLower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The length of the valid UTF-8 sequence starting at s[i] (no overlongs, surrogates or code
// points past U+10FFFF), or 0 when there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return 0;
  }
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8Length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// `s` in double quotes for an error message: at most ~60 bytes, valid UTF-8 kept, quotes,
// backslashes and other bytes escaped, so hostile input cannot forge log lines or break JSON.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size() && i < kMax) {
    const char c = s[i];
    const size_t len = Utf8Length(s, i);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (len > 1 || (len == 1 && !IsCtl(c))) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
    ++i;
  }
  out += '"';
  if (i < s.size()) out += "...";
  return out;
}

// ---- Header parameters -----------------------------------------------------------------------

struct Param {
  std::string name;  // lower-cased
  std::string value;
};

// A quoted-string starting at s[*pos] == '"'. `\"` and `\\` are unescaped; any other backslash
// is kept (MSIE sends "C:\dir\f.txt" unescaped; no generator escapes plain characters).
Result<std::string> ParseQuoted(std::string_view s, size_t* pos) {
  std::string out;
  for (size_t i = *pos + 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      *pos = i + 1;
      return out;
    }
    if (IsCtl(c)) return InvalidArgumentError("control character in a quoted value");
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
    out += s[i];
  }
  return InvalidArgumentError("unterminated quoted value " + Quote(s.substr(*pos)));
}

// The `; name=value` list that follows a header's main value. Values are tokens (read up to ';'
// or whitespace) or quoted strings.
Result<std::vector<Param>> ParseParams(std::string_view s) {
  std::vector<Param> params;
  size_t i = 0;
  auto skip_ows = [&] {
    while (i < s.size() && IsOws(s[i])) ++i;
  };
  while (true) {
    skip_ows();
    if (i == s.size()) return params;
    if (s[i] != ';') return InvalidArgumentError("expected ';' before " + Quote(s.substr(i)));
    ++i;
    skip_ows();
    if (i == s.size()) return params;  // a trailing ';' is harmless
    const size_t name_start = i;
    while (i < s.size() && IsTchar(s[i])) ++i;
    const std::string_view name = s.substr(name_start, i - name_start);
    if (name.empty()) return InvalidArgumentError("bad parameter " + Quote(s.substr(i)));
    skip_ows();
    if (i == s.size() || s[i] != '=') {
      return InvalidArgumentError("parameter " + Quote(name) + " has no '=value'");
    }
    ++i;
    skip_ows();
    Param param{AsciiLower(name), ""};
    if (i < s.size() && s[i] == '"') {
      PA_ASSIGN_OR_RETURN(param.value, ParseQuoted(s, &i));
    } else {
      const size_t start = i;
      while (i < s.size() && s[i] != ';' && !IsOws(s[i]) && s[i] != '"') {
        if (IsCtl(s[i])) return InvalidArgumentError("control character in a parameter value");
        ++i;
      }
      param.value = std::string(s.substr(start, i - start));
    }
    params.push_back(std::move(param));
  }
}

// The one value of parameter `name`; nullopt when absent; an error when repeated.
Result<std::optional<std::string>> SingleParam(const std::vector<Param>& params,
                                               std::string_view name) {
  std::optional<std::string> value;
  for (const Param& p : params) {
    if (p.name != name) continue;
    if (value) return InvalidArgumentError("parameter " + Quote(name) + " is repeated");
    value = p.value;
  }
  return value;
}

// RFC 5987 ext-value: charset'[language]'percent-encoded, as UTF-8. Recipients must support
// UTF-8 and ISO-8859-1; nothing else is accepted.
Result<std::string> DecodeExtValue(std::string_view v) {
  const size_t q1 = v.find('\'');
  const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) {
    return InvalidArgumentError("filename* " + Quote(v) + " is not charset'lang'value");
  }
  const std::string_view charset = v.substr(0, q1);
  const bool utf8 = EqualsIgnoreCase(charset, "utf-8");
  if (!utf8 && !EqualsIgnoreCase(charset, "iso-8859-1")) {
    return InvalidArgumentError("filename* charset " + Quote(charset) +
                                " is not supported (use UTF-8)");
  }
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    unsigned char b = static_cast<unsigned char>(v[i]);
    if (b == '%') {
      const int hi = i + 2 < v.size() ? HexValue(v[i + 1]) : -1;
      const int lo = hi >= 0 ? HexValue(v[i + 2]) : -1;
      if (lo < 0) return InvalidArgumentError("filename* has a bad %-escape: " + Quote(v));
      b = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    }
    if (!utf8 && b >= 0x80) {  // ISO-8859-1 byte = code point; two bytes of UTF-8
      out += static_cast<char>(0xc0 | (b >> 6));
      out += static_cast<char>(0x80 | (b & 0x3f));
    } else {
      out += static_cast<char>(b);
    }
  }
  if (utf8 && !IsValidUtf8(out)) {
    return InvalidArgumentError("filename* " + Quote(v) + " is not valid UTF-8");
  }
  for (char c : out) {
    if (IsCtl(c)) return InvalidArgumentError("filename* " + Quote(v) + " has control characters");
  }
  return out;
}

// "Image/PNG; q=1" -> "image/png; q=1": type/subtype checked and lower-cased, parameters kept
// as sent. nullopt when there is no valid type/subtype.
std::optional<std::string> NormalizeMediaType(std::string_view value) {
  const size_t semi = value.find(';');
  const std::string_view media = TrimOws(value.substr(0, semi));
  const size_t slash = media.find('/');
  if (slash == std::string_view::npos || !IsToken(media.substr(0, slash)) ||
      !IsToken(media.substr(slash + 1))) {
    return std::nullopt;
  }
  std::string normalized = AsciiLower(media);
  if (semi != std::string_view::npos) normalized += value.substr(semi);
  return normalized;
}

// ---- The body --------------------------------------------------------------------------------

// A delimiter line found in the body.
struct Delimiter {
  enum class Kind { kOpen, kClose, kBareLf, kNone };
  Kind kind = Kind::kNone;
  size_t pos = std::string_view::npos;  // where "\r\n--boundary" (or "--boundary") starts
  size_t next = 0;                      // kOpen: the first byte after the line's CRLF
};

class Parser {
 public:
  Parser(std::string_view body, std::string_view boundary, const MultipartLimits& limits)
      : body_(body), delimiter_("\r\n--" + std::string(boundary)), limits_(limits) {}

  Result<std::vector<MultipartPart>> Run();

 private:
  // "--boundary" (no CRLF), as it appears at the start of the body.
  std::string_view DashBoundary() const { return std::string_view(delimiter_).substr(2); }

  Delimiter Classify(size_t pos, size_t after) const;
  Delimiter FindDelimiter(size_t from, bool stop_at_bare_lf) const;
  Result<Delimiter> FindFirstDelimiter() const;
  // Parses the headers starting at `start` into `part`; returns where the part's body starts.
  Result<size_t> ParseHeaders(size_t start, size_t index, MultipartPart* part) const;
  Status ParseDisposition(std::string_view value, const std::string& label,
                          MultipartPart* part) const;

  std::string_view body_;
  std::string delimiter_;  // "\r\n--boundary"
  const MultipartLimits& limits_;
};

std::string PartLabel(size_t index) { return "part " + std::to_string(index); }

std::string PartLabel(size_t index, const MultipartPart& part) {
  std::string label = PartLabel(index) + " (" + Quote(part.name);
  if (part.filename) label += ", filename " + Quote(*part.filename);
  return label + ")";
}

Status BodyError(std::string message) {
  return InvalidArgumentError("multipart body: " + std::move(message));
}

// What follows "--boundary" at `after` makes it a delimiter line: "--" closes, optional
// spaces/tabs then CRLF opens a part. Anything else means it was content.
Delimiter Parser::Classify(size_t pos, size_t after) const {
  using Kind = Delimiter::Kind;
  if (body_.substr(after, 2) == "--") return {Kind::kClose, pos, 0};
  size_t i = after;
  while (i < body_.size() && IsOws(body_[i])) ++i;
  if (body_.substr(i, 2) == "\r\n") return {Kind::kOpen, pos, i + 2};
  if (i < body_.size() && body_[i] == '\n') return {Kind::kBareLf, pos, 0};
  return {Kind::kNone, std::string_view::npos, 0};
}

// The next delimiter line starting at or after `from`.
//
// Why string_view::find and not std::boyer_moore_horspool_searcher: the client chooses the
// boundary, and Horspool compares each window back to front, so a boundary of 70 '-' and a file
// of dashes cost ~70 compares per byte (about a second for 16 MiB in a measurement). find runs
// memchr to the next CR, then a compare that stops at the first mismatch; the delimiter's only CR
// is its first byte, so no two compares overlap and the search is linear whatever the body holds.
// Its worst case, a body of CRs, took 0.1-0.2 s for 16 MiB, about the time to receive it at
// 1 Gbit/s; on real files (few CRs) it runs at memchr speed, ~1 ms for 16 MiB, like Horspool.
Delimiter Parser::FindDelimiter(size_t from, bool stop_at_bare_lf) const {
  while (true) {
    const size_t pos = body_.find(delimiter_, from);
    if (pos == std::string_view::npos) return {};
    const Delimiter d = Classify(pos, pos + delimiter_.size());
    if (d.kind == Delimiter::Kind::kOpen || d.kind == Delimiter::Kind::kClose) return d;
    if (d.kind == Delimiter::Kind::kBareLf && stop_at_bare_lf) return d;
    from = pos + delimiter_.size();  // no CR inside the delimiter: no overlapping match is lost
  }
}

Result<Delimiter> Parser::FindFirstDelimiter() const {
  Delimiter d;
  if (body_.starts_with(DashBoundary())) d = Classify(0, DashBoundary().size());
  if (d.kind == Delimiter::Kind::kNone) d = FindDelimiter(0, /*stop_at_bare_lf=*/true);
  if (d.kind == Delimiter::Kind::kBareLf ||
      (d.kind == Delimiter::Kind::kNone &&
       body_.find("\n" + std::string(DashBoundary())) != std::string_view::npos)) {
    return BodyError("lines must end in CRLF, not a bare LF (RFC 2046)");
  }
  if (d.kind == Delimiter::Kind::kNone) {
    return BodyError(body_.empty() ? "the body is empty"
                                   : "the first boundary " + Quote(DashBoundary()) +
                                         " is missing (wrong boundary in Content-Type?)");
  }
  return d;
}

Result<size_t> Parser::ParseHeaders(size_t start, size_t index, MultipartPart* part) const {
  const std::string label = PartLabel(index);
  std::string_view block;  // every header line with its CRLF; empty when the part has none
  size_t body_start;
  if (body_.substr(start, 2) == "\r\n") {
    body_start = start + 2;
  } else {
    const std::string_view window = body_.substr(start, limits_.max_part_header_bytes + 2);
    const size_t end = window.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (window.size() < body_.size() - start) {
        return BodyError(label + ": headers are longer than " +
                         std::to_string(limits_.max_part_header_bytes) + " bytes");
      }
      return BodyError(label + ": headers do not end with an empty line");
    }
    block = window.substr(0, end + 2);
    body_start = start + end + 4;
  }

  std::optional<std::string_view> disposition, type, encoding;
  for (size_t pos = 0; pos < block.size();) {
    const size_t eol = block.find("\r\n", pos);
    const std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    if (!line.empty() && IsOws(line.front())) {
      return BodyError(label + ": folded header line " + Quote(line) +
                       " (line folding is not allowed in multipart/form-data)");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return BodyError(label + ": bad header line " + Quote(line) + " (expected 'Name: value')");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    for (char c : value) {
      if (c == '\r' || c == '\n') {
        return BodyError(label + ": bare CR or LF in header " + Quote(name) +
                         " (lines must end in CRLF)");
      }
      if (IsCtl(c)) return BodyError(label + ": control character in header " + Quote(name));
    }
    std::optional<std::string_view>* slot = nullptr;
    if (EqualsIgnoreCase(name, "content-disposition")) slot = &disposition;
    if (EqualsIgnoreCase(name, "content-type")) slot = &type;
    if (EqualsIgnoreCase(name, "content-transfer-encoding")) slot = &encoding;
    if (slot == nullptr) continue;  // RFC 7578 §4.8: other headers MUST be ignored
    if (*slot) return BodyError(label + ": header " + Quote(name) + " is repeated");
    *slot = value;
  }

  if (!disposition) return BodyError(label + " has no Content-Disposition header");
  PA_RETURN_IF_ERROR(ParseDisposition(*disposition, label, part));
  const std::string named = PartLabel(index, *part);

  part->content_type = "text/plain";
  if (type) {
    std::optional<std::string> normalized = NormalizeMediaType(*type);
    if (!normalized) return BodyError(named + ": bad Content-Type " + Quote(*type));
    part->content_type = std::move(*normalized);
  }
  if (encoding && !EqualsIgnoreCase(*encoding, "binary") && !EqualsIgnoreCase(*encoding, "8bit") &&
      !EqualsIgnoreCase(*encoding, "7bit")) {
    return BodyError(named + ": Content-Transfer-Encoding " + Quote(*encoding) +
                     " is not supported (send the content as binary)");
  }
  return body_start;
}

Status Parser::ParseDisposition(std::string_view value, const std::string& label,
                                MultipartPart* part) const {
  const size_t semi = value.find(';');
  const std::string_view type = TrimOws(value.substr(0, semi));
  if (!EqualsIgnoreCase(type, "form-data")) {
    return BodyError(label + ": Content-Disposition is " + Quote(type) + ", not form-data");
  }
  auto context = [&](const Status& s) {
    return BodyError(label + ": Content-Disposition: " + s.message());
  };
  Result<std::vector<Param>> params =
      ParseParams(semi == std::string_view::npos ? std::string_view() : value.substr(semi));
  if (!params.ok()) return context(params.status());
  Result<std::optional<std::string>> name = SingleParam(*params, "name");
  Result<std::optional<std::string>> filename = SingleParam(*params, "filename");
  Result<std::optional<std::string>> ext_filename = SingleParam(*params, "filename*");
  for (const Status& s : {name.status(), filename.status(), ext_filename.status()}) {
    if (!s.ok()) return context(s);
  }
  if (!name->has_value()) return BodyError(label + " has no name in its Content-Disposition");
  if ((*name)->empty()) return BodyError(label + " has an empty name");
  part->name = std::move(**name);
  part->filename = std::move(*filename);
  if (ext_filename->has_value()) {  // RFC 6266 §4.3: filename* wins over filename
    Result<std::string> decoded = DecodeExtValue(**ext_filename);
    if (!decoded.ok()) return context(decoded.status());
    part->filename = std::move(*decoded);
  }
  return Status::Ok();
}

Result<std::vector<MultipartPart>> Parser::Run() {
  PA_ASSIGN_OR_RETURN(Delimiter d, FindFirstDelimiter());
  std::vector<MultipartPart> parts;
  while (d.kind == Delimiter::Kind::kOpen) {
    if (parts.size() == limits_.max_parts) {
      return BodyError("more than " + std::to_string(limits_.max_parts) + " parts");
    }
    const size_t index = parts.size() + 1;
    MultipartPart part;
    PA_ASSIGN_OR_RETURN(const size_t body_start, ParseHeaders(d.next, index, &part));
    // The CRLF ending the headers may also start the next delimiter: a part with no body.
    const Delimiter next = FindDelimiter(body_start - 2, /*stop_at_bare_lf=*/false);
    if (next.kind == Delimiter::Kind::kNone) {
      return BodyError(PartLabel(index, part) + " is not followed by a boundary: the body is " +
                       "truncated or the closing " + Quote(std::string(DashBoundary()) + "--") +
                       " is missing");
    }
    const size_t body_end = std::max(next.pos, body_start);
    if (body_end - body_start > limits_.max_part_bytes) {
      return ResourceExhaustedError("multipart body: " + PartLabel(index, part) + " is " +
                                    std::to_string(body_end - body_start) +
                                    " bytes, over the limit of " +
                                    std::to_string(limits_.max_part_bytes));
    }
    part.body = body_.substr(body_start, body_end - body_start);
    parts.push_back(std::move(part));
    d = next;
  }
  return parts;  // kClose: the epilogue is ignored
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  const std::string_view media = TrimOws(content_type.substr(0, semi));
  if (!EqualsIgnoreCase(media, "multipart/form-data")) {
    return InvalidArgumentError("Content-Type " + Quote(media) + " is not multipart/form-data");
  }
  Result<std::vector<Param>> params =
      ParseParams(semi == std::string_view::npos ? std::string_view() : content_type.substr(semi));
  if (!params.ok()) return params.status().WithContext("Content-Type");
  Result<std::optional<std::string>> boundary = SingleParam(*params, "boundary");
  if (!boundary.ok()) return boundary.status().WithContext("Content-Type");
  if (!boundary->has_value()) {
    return InvalidArgumentError("Content-Type multipart/form-data has no boundary parameter");
  }
  if (!IsValidBoundary(**boundary)) {
    return InvalidArgumentError("Content-Type: boundary " + Quote(**boundary) +
                                " is not 1 to 70 of the characters RFC 2046 allows (letters, " +
                                "digits, '()+_,-./:=? and inner spaces)");
  }
  return std::move(**boundary);
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits) {
  if (!IsValidBoundary(boundary)) {
    return InvalidArgumentError("multipart body: invalid boundary " + Quote(boundary));
  }
  return Parser(body, boundary, limits).Run();
}

}  // namespace pa::gateway
