// Certificate helpers shared by the http step (through curl's SSL_CTX hook) and the tls step.
// Internal to pa_robot_checks. Thread-safety: free functions.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

namespace pa::robot {

// Whole days from now until `cert` expires; negative once it has expired.
int DaysLeft(const X509* cert);

// The process-wide client SSL_CTX trusting the system's store, or, for a non-empty `ca_file`,
// one trusting that PEM file (cached per file). Peer verification is left to the caller
// (SSL_VERIFY_NONE), so that a handshake with a bad certificate still reports it. Null when the
// context cannot be made (an unreadable `ca_file`). Never freed.
SSL_CTX* ClientSslContext(const std::string& ca_file);

}  // namespace pa::robot
