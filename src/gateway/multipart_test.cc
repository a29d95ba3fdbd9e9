#include "gateway/multipart.h"

#include <gtest/gtest.h>

#include <random>

namespace pa::gateway {
namespace {

using namespace std::string_literals;  // binary bodies hold NUL bytes

constexpr std::string_view kBoundary = "XyZ123boundary";

// One part of a body built for a test: the header lines are written as given.
struct TestPart {
  std::string headers;  // each line ending in "\r\n"
  std::string content;
};

std::string Build(const std::vector<TestPart>& parts, std::string_view boundary = kBoundary) {
  std::string body;
  for (const TestPart& p : parts) {
    body += "--" + std::string(boundary) + "\r\n" + p.headers + "\r\n" + p.content + "\r\n";
  }
  return body + "--" + std::string(boundary) + "--\r\n";
}

TestPart Field(std::string name, std::string content) {
  return {"Content-Disposition: form-data; name=\"" + name + "\"\r\n", std::move(content)};
}

TestPart File(std::string name, std::string filename, std::string type, std::string content) {
  return {"Content-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
              "\"\r\nContent-Type: " + type + "\r\n",
          std::move(content)};
}

// The part's body lies inside `body`: the parser does not copy.
bool PointsInto(std::string_view part, std::string_view body) {
  return part.data() >= body.data() && part.data() + part.size() <= body.data() + body.size();
}

Status ParseError(std::string_view body, const MultipartLimits& limits = {}) {
  return ParseMultipart(body, kBoundary, limits).status();
}

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

TEST(MultipartBoundaryTest, QuotedAndUnquoted) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(*MultipartBoundary(" multipart/form-data ; charset=utf-8 ;  BOUNDARY = \"x'(y)\" ; "),
            "x'(y)");
  EXPECT_EQ(
      *MultipartBoundary("multipart/form-data; boundary=------------------------87c7e2988d6fe22c"),
      "------------------------87c7e2988d6fe22c");
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'a')),
            std::string(70, 'a'));
}

TEST(MultipartBoundaryTest, Errors) {
  for (std::string_view bad : {
           "text/plain; boundary=abc",            // not multipart
           "multipart/mixed; boundary=abc",       // not form-data
           "",                                    // no Content-Type at all
           "multipart/form-data",                 // no boundary
           "multipart/form-data; charset=utf-8",  // no boundary
           "multipart/form-data; boundary=",      // empty
           "multipart/form-data; boundary=\"\"",
           "multipart/form-data; boundary=a@b",      // outside RFC 2046's set
           "multipart/form-data; boundary=\"ab \"",  // ends in a space
           "multipart/form-data; boundary=\"abc",    // unterminated
           "multipart/form-data; boundary=a; boundary=b", "multipart/form-data; boundary=a b",
           "multipart/form-data; boundary=\"a\\\"b\"",  // a"b once unquoted
       }) {
    Result<std::string> r = MultipartBoundary(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(r.status().message().empty());
  }
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
  EXPECT_TRUE(Contains(MultipartBoundary("application/json").status(), "not multipart/form-data"));
}

// The bytes curl 7.88 sent for `curl -F result=@r.json -F artifact=@shot.png
// -F 'artifact=@my shot é.png'` (captured from the wire).
TEST(MultipartTest, BodyAsCurlSendsIt) {
  const std::string content_type =
      "multipart/form-data; boundary=------------------------87c7e2988d6fe22c";
  const std::string png = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"s;
  const std::string body =
      "--------------------------87c7e2988d6fe22c\r\n"
      "Content-Disposition: form-data; name=\"result\"; filename=\"r.json\"\r\n"
      "Content-Type: application/octet-stream\r\n"
      "\r\n"
      "{\"ok\":true}\n\r\n"
      "--------------------------87c7e2988d6fe22c\r\n"
      "Content-Disposition: form-data; name=\"artifact\"; filename=\"shot.png\"\r\n"
      "Content-Type: image/png\r\n"
      "\r\n" +
      png +
      "\r\n"
      "--------------------------87c7e2988d6fe22c\r\n"
      "Content-Disposition: form-data; name=\"artifact\"; filename=\"my shot \xc3\xa9.png\"\r\n"
      "Content-Type: image/png\r\n"
      "\r\n" +
      png +
      "\r\n"
      "--------------------------87c7e2988d6fe22c--\r\n";

  Result<std::string> boundary = MultipartBoundary(content_type);
  ASSERT_TRUE(boundary.ok()) << boundary.status().ToString();
  Result<std::vector<MultipartPart>> parts = ParseMultipart(body, *boundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  const MultipartPart& result = (*parts)[0];
  EXPECT_EQ(result.name, "result");
  EXPECT_EQ(result.filename, "r.json");
  EXPECT_EQ(result.content_type, "application/octet-stream");
  EXPECT_EQ(result.body, "{\"ok\":true}\n");
  EXPECT_EQ((*parts)[1].name, "artifact");
  EXPECT_EQ((*parts)[1].filename, "shot.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].body, png);
  EXPECT_EQ((*parts)[2].filename, "my shot \xc3\xa9.png");
  EXPECT_EQ((*parts)[2].body, png);
  for (const MultipartPart& p : *parts) EXPECT_TRUE(PointsInto(p.body, body));
}

TEST(MultipartTest, BinaryContentHoldingCrLfDashesAndTheBoundary) {
  const std::string b(kBoundary);
  // Everything here is content: the boundary only delimits as "\r\n--boundary" followed by "--"
  // or (padding and) CRLF.
  const std::string content = "\r\n\r\n--\r\n\0\r--"s + b + "\r\n" + b + "--\r\n\n--" + b +
                              "\r\n\r\n--" + b + "x\r\n\r\n--" + b + " x\r\n\r\n--" + b +
                              "-\r\n\r\n--" + b + "\n\r\r\n";
  const std::string body =
      Build({File("artifact", "weird.bin", "application/octet-stream", content), Field("n", "\r")});
  Result<std::vector<MultipartPart>> parts = ParseMultipart(body, kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, content);
  EXPECT_EQ((*parts)[1].body, "\r");
}

TEST(MultipartTest, TransportPaddingAndHeaderCase) {
  const std::string body = "--"s + std::string(kBoundary) + " \t\r\n" +
                           "cOnTeNt-DiSpOsItIoN: Form-Data ;NAME=x\r\n"
                           "CONTENT-TYPE: Image/PNG ; q=\"A\"\r\n"
                           "X-Ignored: yes\r\n"
                           "Content-Transfer-Encoding: Binary\r\n"
                           "\r\n"
                           "data\r\n--" +
                           std::string(kBoundary) + "--";
  Result<std::vector<MultipartPart>> parts = ParseMultipart(body, kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "x");
  EXPECT_FALSE((*parts)[0].filename.has_value());
  EXPECT_EQ((*parts)[0].content_type, "image/png; q=\"A\"");
  EXPECT_EQ((*parts)[0].body, "data");
}

TEST(MultipartTest, ContentTypeDefaultsToTextPlain) {
  const std::string body = Build({Field("result", "{}"),
                                  {"Content-Disposition: form-data; name=log\r\n"
                                   "Content-Type: text/plain; charset=UTF-8\r\n",
                                   "hello"}});
  Result<std::vector<MultipartPart>> parts = ParseMultipart(body, kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ((*parts)[0].content_type, "text/plain");
  EXPECT_EQ((*parts)[1].name, "log");
  EXPECT_EQ((*parts)[1].content_type, "text/plain; charset=UTF-8");
}

TEST(MultipartTest, Filenames) {
  auto filename_of = [](std::string disposition_params) -> Result<std::optional<std::string>> {
    const std::string body = Build(
        {{"Content-Disposition: form-data; name=\"artifact\"" + disposition_params + "\r\n", "x"}});
    PA_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(body, kBoundary));
    return parts.at(0).filename;
  };
  EXPECT_EQ(*filename_of("; filename=\"step 3 \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac.png\""),
            "step 3 \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac.png");
  EXPECT_EQ(*filename_of("; filename*=UTF-8''%E2%82%AC%20rates.har"), "\xe2\x82\xac rates.har");
  EXPECT_EQ(*filename_of("; filename*=utf-8'en'a%2fb.txt"), "a/b.txt");
  EXPECT_EQ(*filename_of("; filename*=iso-8859-1''caf%E9.log"), "caf\xc3\xa9.log");
  // RFC 6266 §4.3: filename* wins, whichever comes first.
  EXPECT_EQ(*filename_of("; filename*=UTF-8''%C3%A9.txt; filename=\"e.txt\""), "\xc3\xa9.txt");
  EXPECT_EQ(*filename_of("; filename=\"e.txt\"; filename*=UTF-8''%C3%A9.txt"), "\xc3\xa9.txt");
  EXPECT_EQ(*filename_of("; filename=\"say \\\"hi\\\".txt\""), "say \"hi\".txt");
  EXPECT_EQ(*filename_of("; filename=\"C:\\dir\\shot.png\""), "C:\\dir\\shot.png");
  EXPECT_EQ(*filename_of("; filename=unquoted.txt"), "unquoted.txt");
  EXPECT_EQ(*filename_of("; filename=\"\""), "");  // a browser's empty file input
  EXPECT_FALSE(filename_of("")->has_value());

  for (std::string bad :
       {"; filename*=UTF-16''%00a", "; filename*=UTF-8''%E2%82", "; filename*=%41",
        "; filename*=UTF-8''%4", "; filename*=UTF-8''%zz", "; filename*=UTF-8''a%00b",
        "; filename*=UTF-8''%1b[31m", "; filename=\"a\"; filename=\"b\"", "; filename=\"open"}) {
    Result<std::optional<std::string>> r = filename_of(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(MultipartTest, EmptyBodies) {
  // The usual form: blank line, no content, CRLF of the next delimiter.
  Result<std::vector<MultipartPart>> parts = ParseMultipart(
      Build({Field("a", ""), File("artifact", "empty.log", "text/plain", "")}), kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "");
  EXPECT_EQ((*parts)[1].body, "");
  EXPECT_EQ((*parts)[1].filename, "empty.log");

  // RFC 2046 allows the body (with the CRLF before it) to be left out: the CRLF ending the
  // headers is then the delimiter's.
  const std::string b(kBoundary);
  parts = ParseMultipart(
      "--" + b + "\r\nContent-Disposition: form-data; name=a\r\n\r\n--" + b + "--", kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, "");

  // No parts at all.
  parts = ParseMultipart("--" + b + "--\r\n", kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_TRUE(parts->empty());
}

TEST(MultipartTest, PreambleAndEpilogueAreIgnored) {
  const std::string body = "This is a preamble.\r\n--" + std::string(kBoundary) +
                           "x is not it\r\n" + Build({Field("result", "{}")}) + "epilogue\r\n--" +
                           std::string(kBoundary) +
                           "\r\nContent-Disposition: "
                           "form-data; name=ignored\r\n\r\nzzz";
  Result<std::vector<MultipartPart>> parts = ParseMultipart(body, kBoundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "result");
  EXPECT_EQ((*parts)[0].body, "{}");
}

TEST(MultipartTest, MissingBoundaries) {
  const std::string good = Build(
      {Field("result", "{}"), File("artifact", "a.png", "image/png", std::string(1000, 'p'))});
  Status s = ParseError(good.substr(0, good.size() - 4));  // "--boundary" without "--\r\n"
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "closing")) << s.ToString();
  EXPECT_TRUE(Contains(s, "a.png")) << s.ToString();
  s = ParseError(good.substr(0, good.size() - 500));  // truncated inside the file
  EXPECT_TRUE(Contains(s, "truncated")) << s.ToString();

  s = ParseError("");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = ParseError(Build({Field("result", "{}")}, "other-boundary"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "first boundary")) << s.ToString();

  std::string bare_lf = good;
  for (size_t i = 0; (i = bare_lf.find("\r\n", i)) != std::string::npos;) bare_lf.erase(i, 1);
  s = ParseError(bare_lf);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "CRLF")) << s.ToString();

  EXPECT_EQ(ParseMultipart(good, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMultipart(good, "a\r\nb").status().code(), StatusCode::kInvalidArgument);
}

TEST(MultipartTest, PartsWithoutANameOrDisposition) {
  struct Case {
    std::string headers;
    std::string expected;  // in the message
  };
  for (const Case& c : std::vector<Case>{
           {"Content-Disposition: form-data; filename=\"a.png\"\r\n", "has no name"},
           {"Content-Disposition: form-data\r\n", "has no name"},
           {"Content-Disposition: form-data; name=\"\"\r\n", "empty name"},
           {"Content-Type: text/plain\r\n", "no Content-Disposition"},
           {"", "no Content-Disposition"},
           {"Content-Disposition: attachment; name=\"a\"\r\n", "not form-data"},
           {"Content-Disposition: form-data; name=\"a\"; name=\"b\"\r\n", "repeated"},
           {"Content-Disposition: form-data; name\r\n", "no '=value'"},
           {"Content-Disposition: form-data name=a\r\n", "not form-data"},
       }) {
    const Status s = ParseError(Build({Field("result", "{}"), {c.headers, "x"}}));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.headers;
    EXPECT_TRUE(Contains(s, c.expected)) << c.headers << " -> " << s.ToString();
    EXPECT_TRUE(Contains(s, "part 2")) << s.ToString();
  }
}

TEST(MultipartTest, BadHeaderLines) {
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n";
  struct Case {
    std::string headers;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"Content-Disposition: form-data;\r\n name=\"a\"\r\n", "folded"},
           {cd + "\tContent-Type: text/plain\r\n", "folded"},
           {cd + "no colon here\r\n", "bad header line"},
           {cd + ": empty name\r\n", "bad header line"},
           {cd + "Bad Name: x\r\n", "bad header line"},
           {cd + "X-Header: a\nContent-Type: text/plain\r\n", "bare CR or LF"},
           {cd + "X-Header: a\0b\r\n"s, "control character"},
           {cd + cd, "repeated"},
           {cd + "Content-Type: text/plain\r\ncontent-type: image/png\r\n", "repeated"},
           {cd + "Content-Type: png\r\n", "bad Content-Type"},
           {cd + "Content-Type: \r\n", "bad Content-Type"},
           {cd + "Content-Transfer-Encoding: base64\r\n", "not supported"},
       }) {
    const Status s = ParseError(Build({{c.headers, "x"}}));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.headers;
    EXPECT_TRUE(Contains(s, c.expected)) << c.headers << " -> " << s.ToString();
  }

  // Headers without the empty line that ends them; headers over the limit.
  const std::string b(kBoundary);
  Status s = ParseError("--" + b + "\r\n" + cd + "--" + b + "--\r\n");
  EXPECT_TRUE(Contains(s, "empty line")) << s.ToString();
  const std::string long_header = cd + "X-Long: " + std::string(200, 'h') + "\r\n";
  s = ParseError(Build({{long_header, "x"}}), {.max_part_header_bytes = 200});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "longer than 200 bytes")) << s.ToString();
  EXPECT_TRUE(
      ParseError(Build({{long_header, "x"}}), {.max_part_header_bytes = long_header.size()}).ok());
}

TEST(MultipartTest, TooManyParts) {
  const std::vector<TestPart> three(3, Field("artifact", "x"));
  EXPECT_TRUE(ParseError(Build(three), {.max_parts = 3}).ok());
  std::vector<TestPart> four = three;
  four.push_back(Field("artifact", "y"));
  const Status s = ParseError(Build(four), {.max_parts = 3});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "more than 3 parts")) << s.ToString();
}

TEST(MultipartTest, OversizedPartIsResourceExhaustedAndNamed) {
  const MultipartLimits limits{.max_part_bytes = 1000};
  EXPECT_TRUE(ParseError(Build({Field("result", std::string(1000, 'r'))}), limits).ok());
  const Status s = ParseError(
      Build({Field("result", "{}"),
             File("artifact", "big run.har", "application/json", std::string(1001, 'h'))}),
      limits);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_TRUE(Contains(s, "\"artifact\"")) << s.ToString();
  EXPECT_TRUE(Contains(s, "\"big run.har\"")) << s.ToString();
  EXPECT_TRUE(Contains(s, "1001 bytes")) << s.ToString();
}

TEST(MultipartTest, HostileNamesAreEscapedInMessages) {
  // Control characters never get this far (headers reject them); quotes, backslashes, invalid
  // UTF-8 and length are escaped or cut, so a message can go into JSON or a log line as is.
  const Status s = ParseError(
      Build({File("a\\\"b", "evil\xff\xc3\xa9" + std::string(200, 'x'), "image/png", "!")}),
      {.max_part_bytes = 0});
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(s, "(\"a\\\"b\", filename \"evil\\xff\xc3\xa9xxx")) << s.ToString();
  EXPECT_TRUE(Contains(s, "...")) << s.ToString();
  EXPECT_LT(s.message().size(), 250u);
}

TEST(MultipartTest, SixteenMebibyteBody) {
  std::mt19937 rng(42);
  std::string file(16 << 20, '\0');
  for (char& c : file) c = static_cast<char>(rng());
  // Sprinkle near-misses of the delimiter through the file.
  const std::string b(kBoundary);
  for (size_t at = 1000; at + 100 < file.size(); at += 1 << 16) {
    file.replace(at, b.size() + 4, "\r\n--" + b.substr(0, b.size() - 1) + "?");
  }
  const std::string body =
      Build({Field("result", "{}"), File("artifact", "trace.har", "application/json", file)});
  Result<std::vector<MultipartPart>> parts =
      ParseMultipart(body, kBoundary, {.max_part_bytes = 16 << 20});
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].body.size(), file.size());
  EXPECT_TRUE((*parts)[1].body == file);

  // Hostile bodies: 16 MiB of delimiter near-misses (a prefix of it; the whole boundary followed
  // by neither "--" nor CRLF) and no closing delimiter. Linear, so still quick.
  for (const std::string& near_miss : {"\r\n--" + b.substr(0, b.size() - 1), "\r\n--" + b + " x"}) {
    std::string hostile = "--" + b + "\r\nContent-Disposition: form-data; name=result\r\n\r\n";
    while (hostile.size() < (16u << 20)) hostile += near_miss;
    const Status s = ParseError(hostile, {.max_part_bytes = 32 << 20});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_TRUE(Contains(s, "closing")) << s.ToString();
  }
}

// The first delimiter in `text` by RFC 2046's definition, found the slow and obvious way:
// "\r\n--boundary" followed by "--", or by spaces/tabs and CRLF.
size_t NaiveDelimiter(std::string_view text, std::string_view boundary) {
  const std::string delimiter = "\r\n--" + std::string(boundary);
  for (size_t p = 0; p < text.size(); ++p) {
    if (!text.substr(p).starts_with(delimiter)) continue;
    size_t q = p + delimiter.size();
    if (text.substr(q).starts_with("--")) return p;
    while (q < text.size() && (text[q] == ' ' || text[q] == '\t')) ++q;
    if (text.substr(q).starts_with("\r\n")) return p;
  }
  return std::string_view::npos;
}

// Contents dense with near-misses of the delimiter: where a part ends must agree with the naive
// scan above.
TEST(MultipartTest, PartEndsWhereANaiveScanFindsTheDelimiter) {
  std::mt19937 rng(7);
  auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (const std::string& b : std::vector<std::string>{
           "a", "ab", "a-b", "aab", std::string(70, 'a'), std::string(70, '-')}) {
    const std::string full = "\r\n--" + b + "--\r\n";
    for (int iteration = 0; iteration < 400; ++iteration) {
      std::string content;
      for (size_t pieces = below(40); pieces > 0; --pieces) {
        switch (below(3)) {
          case 0:
            content += "\r\n- \tab"[below(8)];
            break;
          case 1:  // a prefix of a close delimiter line
            content += full.substr(0, below(full.size() + 1));
            break;
          default:  // a delimiter followed by something that may or may not end it
            content += "\r\n--" + b + std::string(1, "\r\n- \tab-"[below(9)]);
        }
      }
      const std::string body =
          "--" + b + "\r\nContent-Disposition: form-data; name=a\r\n\r\n" + content + full;
      // The search starts at the CRLF that ends the headers.
      const std::string text = "\r\n" + content + full;
      const size_t end = NaiveDelimiter(text, b);
      ASSERT_NE(end, std::string::npos);
      const std::string expected = end <= 2 ? "" : text.substr(2, end - 2);

      Result<std::vector<MultipartPart>> parts = ParseMultipart(body, b);
      const bool only_the_final_delimiter = end == text.size() - full.size();
      const bool close = text.substr(end + 4 + b.size()).starts_with("--");
      if (only_the_final_delimiter || close) {
        ASSERT_TRUE(parts.ok()) << parts.status().ToString();
        ASSERT_EQ(parts->size(), 1u);
      }
      if (parts.ok()) {
        ASSERT_EQ((*parts)[0].body, expected) << "boundary " << b << ", content " << content;
      }
      if (only_the_final_delimiter) {
        ASSERT_EQ((*parts)[0].body, content);
      }
    }
  }
}

// Random mutations of a valid body: never a crash, an exception or a view outside the input;
// always OK or one of the two documented codes.
TEST(MultipartFuzzTest, RandomMutationsNeverCrash) {
  const std::string b(kBoundary);
  const std::string seed_body =
      "preamble\r\n" +
      Build({Field("result", "{\"id\":1}"),
             File("artifact", "s h\xc3\xa9.png", "Image/PNG; x=\"1\"",
                  "\x89PNG\r\n\x1a\n--"s + b + "\0\r"s),
             {"Content-Disposition: form-data; name=log; "
              "filename*=UTF-8''%C3%A9.log\r\nContent-Type: text/plain\r\n",
              "line 1\r\nline 2\r\n"}}) +
      "epilogue";
  ASSERT_TRUE(ParseMultipart(seed_body, kBoundary).ok());

  const std::vector<std::string> tokens = {"\r\n", "\r\n--" + b, "--" + b, "--", "\r\n\r\n",
                                           "\"",   ";",          ":",      "\\", "%",
                                           " ",    "\n",         "\r",     "\0"s};
  std::mt19937 rng(20240601);
  auto below = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  int ok = 0;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    std::string body = seed_body;
    const int mutations = 1 + static_cast<int>(below(4));
    for (int m = 0; m < mutations; ++m) {
      const size_t at = below(body.size() + 1);
      switch (below(6)) {
        case 0:  // flip a byte
          if (at < body.size()) body[at] = static_cast<char>(rng());
          break;
        case 1:  // insert a token
          body.insert(at, tokens[below(tokens.size())]);
          break;
        case 2:  // delete a run
          body.erase(at, below(16));
          break;
        case 3:  // duplicate a run
          body.insert(at, body.substr(below(body.size()), below(64)));
          break;
        case 4:  // truncate
          body.resize(at);
          break;
        default:  // random bytes
          for (size_t k = below(8); k > 0; --k)
            body.insert(body.begin() + below(body.size() + 1), static_cast<char>(rng()));
      }
    }
    const MultipartLimits limits{.max_parts = 1 + below(4),
                                 .max_part_bytes = 4 + below(40),
                                 .max_part_header_bytes = 20 + below(200)};
    for (const MultipartLimits& l : {MultipartLimits{}, limits}) {
      Result<std::vector<MultipartPart>> parts = ParseMultipart(body, kBoundary, l);
      if (parts.ok()) {
        ++ok;
        EXPECT_LE(parts->size(), l.max_parts);
        for (const MultipartPart& p : *parts) {
          EXPECT_FALSE(p.name.empty());
          EXPECT_LE(p.body.size(), l.max_part_bytes);
          EXPECT_TRUE(PointsInto(p.body, body));
        }
      } else {
        const StatusCode code = parts.status().code();
        EXPECT_TRUE(code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted)
            << parts.status().ToString();
        EXPECT_FALSE(parts.status().message().empty());
      }
    }
  }
  EXPECT_GT(ok, 0);  // the mutations leave some bodies valid: the OK path is exercised too
}

}  // namespace
}  // namespace pa::gateway
