// TestWebServer: an in-process HTTP/1.1 server on 127.0.0.1 (port 0) with the pages the browser
// tests need. One thread accepts; each connection gets a thread (keep-alive honoured).
//
//   /form            a form: input[name=q], select#country, button#go (GET /result), and a
//                    button "Add to cart" that writes "Clicked!" into #msg
//   /result?q=&country=   <h1>Hello {q} from {country}</h1>, title "Result"
//   /delayed         answers after 300 ms
//   /redirect        302 to /form
//   /changing        "Ready now" and a .done element appear 700 ms after load
//   /hang            headers and half a body, then nothing until the server stops
//   /loop            a script that never ends
//   /shift           a block grows above the text 300 ms after load (layout shift), then
//                    #shift-done appears
//   /lcp, /img.svg   a large image (LCP candidate)
//   /slow            answers after 20 s (or at shutdown); WaitForRequest("/slow") sees it arrive
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pa::robot::browser::testing {

class TestWebServer {
 public:
  TestWebServer();
  ~TestWebServer();  // unblocks /hang and /slow, joins every thread

  // "http://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path) const;

  // Waits until `path` (without query) has been requested at least `count` times.
  bool WaitForRequest(const std::string& path, int count, std::chrono::milliseconds timeout);

 private:
  void AcceptLoop();
  void Serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  // Sleeps for `d` or until the server stops; false when it stopped.
  bool Pause(std::chrono::milliseconds d);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread accept_thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, int> requests_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
};

}  // namespace pa::robot::browser::testing
