// ParseMultipart: splits a `multipart/form-data` request body (RFC 7578 on top of RFC 2046) into
// its parts, without copying them.
//
// The result upload route takes one part named `result` (JSON) and any number of `artifact` file
// parts (screenshots, HAR files, logs). The whole body is already in memory (the server collects
// it under its body limit), so the parser works on one buffer: each part's `body` is a view into
// it, and the caller must keep the buffer alive while it uses the parts.
//
//   PA_ASSIGN_OR_RETURN(std::string boundary,
//                       MultipartBoundary(request.Header("content-type").value_or("")));
//   PA_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(request.body, boundary));
//   for (const MultipartPart& part : parts) {
//     if (part.name == "artifact") Store(part.filename.value_or(""), part.content_type, part.body);
//   }
//
// What is accepted, and why:
//   - Lines end in CRLF. Bare LF is rejected with a message saying so: once file contents may hold
//     CR and LF bytes, a body split on bare LF cannot tell a file's trailing CR from the
//     delimiter's, and every real client (curl, browsers, Python, Go, Java) sends CRLF.
//   - A delimiter is "\r\n--boundary" (or "--boundary" at the very start of the body, or right
//     after the blank line that ends a part's headers), followed by "--" (the close delimiter) or
//     by optional spaces/tabs and CRLF. "\r\n--boundary" followed by anything else is content, as
//     RFC 2046 §5.1.1 defines the delimiter line; so is the boundary text anywhere but a line
//     start.
//   - Preamble and epilogue are ignored. A body holding only the close delimiter has zero parts.
//   - Part headers: names case-insensitive; `Content-Disposition: form-data` with a `name` is
//     required; `Content-Type` defaults to "text/plain"; `Content-Transfer-Encoding` may only be
//     7bit, 8bit or binary; other headers are ignored (RFC 7578 §4.8). Folded header lines, control
//     characters and repeated Content-Disposition/Content-Type headers are rejected.
//   - Quoted parameter values: `\"` and `\\` are unescaped; any other backslash is literal (old
//     browsers send Windows paths unescaped). Browsers' percent-encoding of `"` (%22) is NOT
//     undone, since a literal "%22" in a name would be indistinguishable.
//
// Cost: linear in the body size whatever its content and boundary (see FindDelimiter in
// multipart.cc for why not a Boyer-Moore searcher); only names, filenames and content types are
// copied.
//
// Thread-safety: free functions without shared state; call them from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pa::gateway {

struct MultipartPart {
  // From `Content-Disposition: form-data; name="..."`; never empty.
  std::string name;
  // `filename="..."` (RFC 7578 §4.2), or the decoded `filename*=UTF-8''...` (RFC 5987), which wins
  // when both are present. Bytes as the client sent them (usually UTF-8); "" when a browser submits
  // an empty file input. Not a safe path: callers must sanitise it before touching a filesystem.
  std::optional<std::string> filename;
  // The part's Content-Type with type/subtype lower-cased and parameters kept as sent
  // ("text/plain; charset=UTF-8"); "text/plain" when the part has none (RFC 7578 §4.4).
  std::string content_type;
  // The part's content; points INTO the body passed to ParseMultipart.
  std::string_view body;
};

struct MultipartLimits {
  size_t max_parts = 101;
  size_t max_part_bytes = 10 * 1024 * 1024;  // per part body
  size_t max_part_header_bytes = 16 * 1024;  // per part headers block (every header line + CRLFs)
};

// The boundary parameter of a `multipart/form-data` Content-Type header value, unquoted.
// kInvalidArgument when the type is not multipart/form-data (case-insensitive), or the boundary is
// missing, repeated, or not 1..70 characters of RFC 2046's set (letters, digits, '()+_,-./:=? and
// inner spaces).
Result<std::string> MultipartBoundary(std::string_view content_type);

// Splits `body` into its parts, in order. On failure no parts are returned:
//   kInvalidArgument (answer 400), with a message naming the part: no first boundary, no closing
//     "--boundary--" (a truncated body), bare-LF line endings, headers that are malformed, folded,
//     longer than max_part_header_bytes or not ended by an empty line, a part without
//     Content-Disposition form-data or without a name, a bad filename*, more than max_parts parts,
//     or a `boundary` that MultipartBoundary would reject;
//   kResourceExhausted (answer 413) when a part's body is longer than max_part_bytes; the message
//     names the part's name and filename.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits = {});

}  // namespace pa::gateway
