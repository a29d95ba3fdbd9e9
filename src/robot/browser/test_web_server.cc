#include "robot/browser/test_web_server.h"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace pa::robot::browser::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr const char* kForm = R"(<!doctype html><html><head><meta charset="utf-8">
<title>Form</title></head><body>
<h1>Order</h1>
<form action="/result" method="get">
  <input name="q" id="q">
  <select id="country" name="country"><option value="FR">France</option>
    <option value="RU">Russia</option></select>
  <button id="go" type="submit">Send</button>
</form>
<button type="button" onclick="document.getElementById('msg').textContent = 'Clicked!'">
  Add to cart</button>
<p id="msg"></p>
</body></html>)";

constexpr const char* kChanging = R"(<!doctype html><html><head><meta charset="utf-8">
<title>Changing</title></head><body><div id="status">Loading...</div>
<script>
setTimeout(() => {
  document.getElementById('status').textContent = 'Ready now';
  const d = document.createElement('div');
  d.className = 'done';
  d.textContent = 'done';
  document.body.appendChild(d);
}, 700);
</script></body></html>)";

constexpr const char* kShift = R"(<!doctype html><html><head><meta charset="utf-8">
<title>Shift</title></head><body style="margin:0">
<div id="top" style="height:0;background:#c33"></div>
<p style="font-size:32px;margin:0">This paragraph moves down when the block above it grows, which
is a layout shift that nobody asked for.</p>
<script>
setTimeout(() => {
  document.getElementById('top').style.height = '300px';
  requestAnimationFrame(() => setTimeout(() => {
    const d = document.createElement('div');
    d.id = 'shift-done';
    d.textContent = 'shifted';
    document.body.appendChild(d);
  }, 200));
}, 300);
</script></body></html>)";

constexpr const char* kLcp = R"(<!doctype html><html><head><meta charset="utf-8">
<title>LCP</title></head><body><p>small</p>
<img src="/img.svg" width="800" height="500" alt="big"></body></html>)";

constexpr const char* kSvg = R"(<svg xmlns="http://www.w3.org/2000/svg" width="800" height="500">
<rect width="800" height="500" fill="#2a6"/><circle cx="400" cy="250" r="200" fill="#fd3"/></svg>)";

std::string Page(const std::string& title, const std::string& body) {
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
         "</title></head><body>" + body + "</body></html>";
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view pair = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    if (pair.starts_with(std::string(name) + "=")) return UrlDecode(pair.substr(name.size() + 1));
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return "";
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

TestWebServer::TestWebServer()
    : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

TestWebServer::~TestWebServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
  }
  cv_.notify_all();
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

std::string TestWebServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

bool TestWebServer::WaitForRequest(const std::string& path, int count, milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_[path] >= count; });
}

bool TestWebServer::Pause(milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

void TestWebServer::AcceptLoop() {
  while (true) {
    auto socket = std::make_shared<tcp::socket>(ioc_);
    boost::system::error_code ec;
    acceptor_.accept(*socket, ec);
    std::lock_guard lock(mu_);
    if (ec || stopping_) return;
    sockets_.push_back(socket);
    threads_.emplace_back([this, socket] { Serve(socket); });
  }
}

void TestWebServer::Serve(std::shared_ptr<tcp::socket> socket) {
  boost::beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    http::read(*socket, buffer, req, ec);
    if (ec) return;
    const std::string target(req.target());
    const size_t q = target.find('?');
    const std::string path = target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    {
      std::lock_guard lock(mu_);
      requests_[path]++;
    }
    cv_.notify_all();

    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    if (path == "/form" || path == "/") {
      res.body() = kForm;
    } else if (path == "/result") {
      res.body() = Page("Result", "<h1>Hello " + HtmlEscape(QueryParam(query, "q")) + " from " +
                                      HtmlEscape(QueryParam(query, "country")) + "</h1>");
    } else if (path == "/delayed") {
      if (!Pause(milliseconds(300))) return;
      res.body() = Page("Delayed", "<h1>Delayed page</h1>");
    } else if (path == "/redirect") {
      res.result(http::status::found);
      res.set(http::field::location, "/form");
    } else if (path == "/changing") {
      res.body() = kChanging;
    } else if (path == "/shift") {
      res.body() = kShift;
    } else if (path == "/lcp") {
      res.body() = kLcp;
    } else if (path == "/img.svg") {
      if (!Pause(milliseconds(100))) return;
      res.set(http::field::content_type, "image/svg+xml");
      res.body() = kSvg;
    } else if (path == "/loop") {
      res.body() = Page("Loop", "<h1>Loop</h1><script>while (true) {}</script>");
    } else if (path == "/slow") {
      if (!Pause(milliseconds(20000))) return;
      res.body() = Page("Slow", "<h1>Slow</h1>");
    } else if (path == "/hang") {
      std::string head =
          "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
          "<!doctype html><html><head><title>Hang</title></head><body><h1>Partial</h1>";
      asio::write(*socket, asio::buffer(head), ec);
      Pause(milliseconds(600000));
      return;
    } else {
      res.result(http::status::not_found);
      res.body() = Page("Not found", "<h1>Not found</h1>");
    }
    res.prepare_payload();
    http::write(*socket, res, ec);
    if (ec || !req.keep_alive()) return;
  }
}

}  // namespace pa::robot::browser::testing
