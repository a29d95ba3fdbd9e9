#include "robot/tls_util.h"

#include <openssl/asn1.h>

#include <map>
#include <mutex>

namespace pa::robot {

int DaysLeft(const X509* cert) {
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) == 0) return 0;
  // Days and seconds share a sign; round down, so an expiry 10 hours ago is day -1.
  return seconds < 0 ? days - 1 : days;
}

SSL_CTX* ClientSslContext(const std::string& ca_file) {
  static std::mutex mu;
  static std::map<std::string, SSL_CTX*>* contexts = new std::map<std::string, SSL_CTX*>();
  std::lock_guard lock(mu);
  if (auto it = contexts->find(ca_file); it != contexts->end()) return it->second;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // Every check is a first visit: no session resumption to flatter the handshake time.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  const int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                     : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  contexts->emplace(ca_file, ctx);
  return ctx;
}

}  // namespace pa::robot
