// A minimal DNS stub client for the dns step: one question to the given servers over UDP
// (TCP when the answer is truncated), answers of the asked type decoded to text. Used for every
// record type when the step names a `resolver`, and for CNAME, MX, TXT and NS through the
// system's nameservers (A and AAAA through the system go via getaddrinfo, as applications see
// them). Internal to pa_robot_checks.
//
// Answers: A/AAAA as addresses ("192.0.2.1", "2001:db8::1"), CNAME/NS as names without the
// final dot, MX as "<preference> <exchange>", TXT as its strings concatenated.
// Errors: kDeadlineExceeded (no answer in time), kUnavailable (send/receive failure, a server's
// rcode such as NXDOMAIN or SERVFAIL, "no MX records"), kInvalidArgument (a name that cannot be
// encoded).
// Thread-safety: free functions; callable from any thread.
#pragma once

#include <string>
#include <vector>

#include "robot/net_util.h"
#include "synth/definition.h"

namespace pa::robot {

// The system's nameservers (from /etc/resolv.conf through res_ninit), port 53.
std::vector<SocketAddress> SystemNameservers();

// Asks `servers` in turn (each gets an equal share of the time left) for `name`'s records of
// `type`; the first server that answers decides.
Result<std::vector<std::string>> QueryDns(const std::string& name, synth::DnsRecord type,
                                          const std::vector<SocketAddress>& servers,
                                          Deadline deadline);

}  // namespace pa::robot
