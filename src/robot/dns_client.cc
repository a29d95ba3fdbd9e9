#include "robot/dns_client.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>
#include <resolv.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/random.h"

namespace pa::robot {
namespace {

constexpr size_t kMaxMessage = 65535;

uint16_t RecordType(synth::DnsRecord record) {
  switch (record) {
    case synth::DnsRecord::kA:
      return ns_t_a;
    case synth::DnsRecord::kAaaa:
      return ns_t_aaaa;
    case synth::DnsRecord::kCname:
      return ns_t_cname;
    case synth::DnsRecord::kMx:
      return ns_t_mx;
    case synth::DnsRecord::kTxt:
      return ns_t_txt;
    case synth::DnsRecord::kNs:
      return ns_t_ns;
  }
  return ns_t_a;
}

void Put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xFF);
}

// A query with recursion desired: header, then the question.
Result<std::string> EncodeQuery(const std::string& name, uint16_t type, uint16_t id) {
  std::string q;
  Put16(q, id);
  Put16(q, 0x0100);  // RD
  Put16(q, 1);       // QDCOUNT
  Put16(q, 0);
  Put16(q, 0);
  Put16(q, 0);
  std::string_view rest = name;
  if (rest.ends_with('.')) rest.remove_suffix(1);
  size_t encoded = 1;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63) {
      return InvalidArgumentError("'" + name + "' is not a valid domain name");
    }
    q += static_cast<char>(label.size());
    q.append(label);
    encoded += label.size() + 1;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  if (encoded > 255) return InvalidArgumentError("'" + name + "' is too long for DNS");
  q += '\0';
  Put16(q, type);
  Put16(q, ns_c_in);
  return q;
}

Status ReadExact(int fd, char* buf, size_t n, Deadline deadline) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if (r == 0) {
      return UnavailableError("the DNS server closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      PA_RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline));
    } else {
      return UnavailableError(std::string("receive from the DNS server: ") + std::strerror(errno));
    }
  }
  return Status::Ok();
}

Result<std::string> ExchangeTcp(const SocketAddress& server, const std::string& query,
                                Deadline deadline) {
  PA_ASSIGN_OR_RETURN(Socket s, ConnectAny({server}, SOCK_STREAM, deadline));
  std::string framed;
  Put16(framed, static_cast<uint16_t>(query.size()));
  framed += query;
  PA_RETURN_IF_ERROR(SendAll(s.fd(), framed, deadline));
  unsigned char len[2];
  PA_RETURN_IF_ERROR(ReadExact(s.fd(), reinterpret_cast<char*>(len), 2, deadline));
  std::string answer(static_cast<size_t>(len[0] << 8 | len[1]), '\0');
  PA_RETURN_IF_ERROR(ReadExact(s.fd(), answer.data(), answer.size(), deadline));
  return answer;
}

bool IsAnswerTo(const std::string& msg, uint16_t id) {
  return msg.size() >= 12 && static_cast<uint8_t>(msg[0]) == (id >> 8) &&
         static_cast<uint8_t>(msg[1]) == (id & 0xFF) && (static_cast<uint8_t>(msg[2]) & 0x80);
}

// The answer message from `server`, over UDP, or TCP when UDP's was truncated.
Result<std::string> Exchange(const SocketAddress& server, const std::string& query, uint16_t id,
                             Deadline deadline) {
  PA_ASSIGN_OR_RETURN(Socket s, ConnectAny({server}, SOCK_DGRAM, deadline));
  PA_RETURN_IF_ERROR(SendAll(s.fd(), query, deadline));
  std::string msg(kMaxMessage, '\0');
  while (true) {
    const ssize_t n = recv(s.fd(), msg.data(), msg.size(), 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return UnavailableError("DNS server " + server.Ip() + ": " + std::strerror(errno));
      }
      PA_RETURN_IF_ERROR(WaitFor(s.fd(), POLLIN, deadline));
      continue;
    }
    msg.resize(static_cast<size_t>(n));
    if (IsAnswerTo(msg, id)) break;
    msg.resize(kMaxMessage);  // a stray datagram: keep waiting for ours
  }
  const bool truncated = static_cast<uint8_t>(msg[2]) & 0x02;
  if (truncated) return ExchangeTcp(server, query, deadline);
  return msg;
}

std::string ExpandName(const ns_msg& handle, const unsigned char* at) {
  char name[NS_MAXDNAME];
  if (dn_expand(ns_msg_base(handle), ns_msg_end(handle), at, name, sizeof(name)) < 0) return "";
  return name;
}

// The answers of `type` in `msg`, decoded to text.
Result<std::vector<std::string>> DecodeAnswers(const std::string& msg, uint16_t type,
                                               const std::string& name) {
  ns_msg handle;
  if (ns_initparse(reinterpret_cast<const unsigned char*>(msg.data()), static_cast<int>(msg.size()),
                   &handle) != 0) {
    return UnavailableError("malformed DNS answer");
  }
  const int rcode = ns_msg_getflag(handle, ns_f_rcode);
  if (rcode != ns_r_noerror) {
    static constexpr const char* kRcodes[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                              "NXDOMAIN", "NOTIMP",  "REFUSED"};
    const std::string code = rcode < 6 ? kRcodes[rcode] : "rcode " + std::to_string(rcode);
    return UnavailableError("DNS answered " + code + " for '" + name + "'");
  }
  std::vector<std::string> out;
  for (int i = 0; i < ns_msg_count(handle, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0) return UnavailableError("malformed DNS answer");
    if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in) continue;
    const unsigned char* data = ns_rr_rdata(rr);
    const size_t len = ns_rr_rdlen(rr);
    char ip[INET6_ADDRSTRLEN] = "";
    if (type == ns_t_a && len == 4) {
      out.push_back(inet_ntop(AF_INET, data, ip, sizeof(ip)));
    } else if (type == ns_t_aaaa && len == 16) {
      out.push_back(inet_ntop(AF_INET6, data, ip, sizeof(ip)));
    } else if (type == ns_t_cname || type == ns_t_ns) {
      out.push_back(ExpandName(handle, data));
    } else if (type == ns_t_mx && len > 2) {
      out.push_back(std::to_string(ns_get16(data)) + " " + ExpandName(handle, data + 2));
    } else if (type == ns_t_txt) {
      std::string text;
      for (size_t at = 0; at < len;) {
        const size_t n = std::min<size_t>(data[at], len - at - 1);
        text.append(reinterpret_cast<const char*>(data + at + 1), n);
        at += n + 1;
      }
      out.push_back(std::move(text));
    }
  }
  return out;
}

}  // namespace

std::vector<SocketAddress> SystemNameservers() {
  std::vector<SocketAddress> out;
  struct __res_state state;
  std::memset(&state, 0, sizeof(state));
  if (res_ninit(&state) != 0) return out;
  for (int i = 0; i < state.nscount && i < MAXNS; ++i) {
    SocketAddress a;
    if (state._u._ext.nsaddrs[i] != nullptr) {
      std::memcpy(&a.storage, state._u._ext.nsaddrs[i], sizeof(sockaddr_in6));
      a.length = sizeof(sockaddr_in6);
    } else if (state.nsaddr_list[i].sin_family == AF_INET) {
      std::memcpy(&a.storage, &state.nsaddr_list[i], sizeof(sockaddr_in));
      a.length = sizeof(sockaddr_in);
    } else {
      continue;
    }
    out.push_back(a);
  }
  res_nclose(&state);
  return out;
}

Result<std::vector<std::string>> QueryDns(const std::string& name, synth::DnsRecord record,
                                          const std::vector<SocketAddress>& servers,
                                          Deadline deadline) {
  const uint16_t type = RecordType(record);
  const auto id = static_cast<uint16_t>(FastRandom());
  PA_ASSIGN_OR_RETURN(std::string query, EncodeQuery(name, type, id));
  Status last = UnavailableError("no DNS server to ask");
  for (size_t i = 0; i < servers.size(); ++i) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const auto share = (deadline - now) / static_cast<int64_t>(servers.size() - i);
    Result<std::string> msg = Exchange(servers[i], query, id, now + share);
    if (!msg.ok()) {
      last = msg.status();
      if (IsTimeout(last)) {
        last = DeadlineExceededError("no answer from DNS server " + servers[i].Ip() + " in time");
      }
      continue;
    }
    PA_ASSIGN_OR_RETURN(std::vector<std::string> answers, DecodeAnswers(*msg, type, name));
    if (answers.empty()) {
      return UnavailableError("no " + std::string(synth::DnsRecordName(record)) + " records for '" +
                              name + "'");
    }
    return answers;
  }
  return last;
}

}  // namespace pa::robot
