#include "storage/postgres/connection.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

namespace pa::storage::postgres {
namespace {

// Type OIDs from catalog/pg_type.h (a server header the client package does not ship).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Enough for every statement the components run; ad-hoc SQL beyond it empties the cache.
constexpr size_t kMaxPrepared = 256;

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Snippet(std::string_view sql) {
  std::string out = OneLine(sql.substr(0, 400));
  if (out.size() > 200) out = out.substr(0, 200) + "...";
  return out;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::array<char, 64> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), end);
}

double ParseDouble(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // A numeric beyond double's range: strtod saturates to ±inf or 0 as appropriate.
  if (ec == std::errc::result_out_of_range) return std::strtod(std::string(text).c_str(), nullptr);
  return v;
}

SqlValue ParseValue(Oid type, const char* value, int length) {
  const std::string_view text(value, static_cast<size_t>(length));
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc()) return v;
      return std::string(text);
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return ParseDouble(text);
    case kBoolOid:
      return int64_t{text == "t" ? 1 : 0};
    case kByteaOid: {
      size_t size = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(value), &size);
      if (bytes == nullptr) return Blob{};
      Blob blob{std::string(reinterpret_cast<const char*>(bytes), size)};
      PQfreemem(bytes);
      return blob;
    }
    default:
      return std::string(text);
  }
}

Rows ToRows(const PGresult* result) {
  const int fields = PQnfields(result);
  const int tuples = PQntuples(result);
  std::vector<std::string> columns;
  std::vector<Oid> types;
  for (int c = 0; c < fields; ++c) {
    columns.emplace_back(PQfname(result, c));
    types.push_back(PQftype(result, c));
  }
  std::vector<std::vector<SqlValue>> rows(static_cast<size_t>(tuples));
  for (int r = 0; r < tuples; ++r) {
    auto& row = rows[static_cast<size_t>(r)];
    row.reserve(static_cast<size_t>(fields));
    for (int c = 0; c < fields; ++c) {
      if (PQgetisnull(result, r, c)) {
        row.push_back(kNull);
      } else {
        row.push_back(ParseValue(types[static_cast<size_t>(c)], PQgetvalue(result, r, c),
                                 PQgetlength(result, r, c)));
      }
    }
  }
  return Rows(std::move(columns), std::move(rows));
}

int64_t AffectedRows(const PGresult* result) {
  const std::string_view text = PQcmdTuples(const_cast<PGresult*>(result));
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// Parameters in libpq's form: numbers and text as text, blobs as binary bytea.
struct EncodedParams {
  std::vector<Oid> types;
  std::vector<std::string> storage;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  std::string signature;  // one character per parameter type, part of the statement cache key
};

Result<EncodedParams> Encode(const Params& params) {
  const auto& in = params.values();
  EncodedParams out;
  out.types.resize(in.size());
  out.storage.resize(in.size());
  out.values.resize(in.size());
  out.lengths.resize(in.size());
  out.formats.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const SqlValue& v = in[i];
    if (const auto* n = std::get_if<int64_t>(&v)) {
      out.types[i] = kInt8Oid;
      out.storage[i] = std::to_string(*n);
      out.values[i] = out.storage[i].c_str();
      out.signature += '8';
    } else if (const auto* d = std::get_if<double>(&v)) {
      out.types[i] = kFloat8Oid;
      out.storage[i] = FormatDouble(*d);
      out.values[i] = out.storage[i].c_str();
      out.signature += 'f';
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      if (s->find('\0') != std::string::npos) {
        return InvalidArgumentError("parameter $" + std::to_string(i + 1) +
                                    " is text with a NUL byte; PostgreSQL text cannot hold it "
                                    "(store it as a Blob)");
      }
      out.values[i] = s->c_str();  // type left to the server, as for a quoted literal
      out.signature += 't';
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      out.types[i] = kByteaOid;
      out.values[i] = b->bytes.data();
      out.lengths[i] = static_cast<int>(b->bytes.size());
      out.formats[i] = 1;
      out.signature += 'b';
    } else {
      out.signature += 't';  // NULL: unknown type, like a NULL literal
    }
  }
  return out;
}

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The highest `$N` in `sql`, outside literals ('...', E'...', $tag$...$tag$), quoted identifiers
// and comments. PostgreSQL accepts surplus parameters whose type we declared, so this is how
// "more parameters than the SQL uses" becomes an error, as it is on SQLite.
int MaxParamNumber(std::string_view sql) {
  int max = 0;
  size_t i = 0;
  auto skip_to = [&](std::string_view end, size_t from) {
    const size_t at = sql.find(end, from);
    i = at == std::string_view::npos ? sql.size() : at + end.size();
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const bool word_start = i == 0 || !IsIdentChar(sql[i - 1]);
    if (c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
        (i == 1 || !IsIdentChar(sql[i - 2]))) {
      for (++i; i < sql.size() && sql[i] != '\''; ++i) {
        if (sql[i] == '\\') ++i;  // E'it\'s'
      }
      ++i;
    } else if (c == '\'') {
      skip_to("'", i + 1);
    } else if (c == '"') {
      skip_to("\"", i + 1);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      skip_to("\n", i + 2);
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      skip_to("*/", i + 2);  // nested comments are rare enough to ignore
    } else if (c == '$' && word_start && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      int n = 0;
      for (++i; i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i])); ++i) {
        n = std::min(n * 10 + (sql[i] - '0'), 1 << 20);
      }
      max = std::max(max, n);
    } else if (c == '$' && word_start) {
      size_t j = i + 1;  // a dollar quote: $$ or $tag$
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_'))
        ++j;
      if (j < sql.size() && sql[j] == '$') {
        skip_to(sql.substr(i, j + 1 - i), j + 1);
      } else {
        ++i;
      }
    } else {
      ++i;
    }
  }
  return max;
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Connect(const ConnectParams& params) {
  const auto timeout_s = std::max<int64_t>(1, (params.connect_timeout.count() + 999) / 1000);
  const std::string timeout = std::to_string(timeout_s);
  // Later keywords override what the URI says; `dbname` holds the URI (expand_dbname=1).
  std::vector<const char*> keys = {"dbname",          "connect_timeout",
                                   "client_encoding", "fallback_application_name",
                                   "keepalives",      "keepalives_idle"};
  std::vector<const char*> values = {
      params.uri.c_str(), timeout.c_str(), "UTF8", "primoart", "1", "30"};
  if (!params.options.empty()) {
    keys.push_back("options");
    values.push_back(params.options.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn == nullptr) return UnavailableError("database " + params.where + ": out of memory");
  std::unique_ptr<Connection> out(new Connection(conn, params.where));  // PQfinish on all paths
  if (PQstatus(conn) != CONNECTION_OK) {
    return UnavailableError("database " + params.where +
                            " unreachable: " + OneLine(PQerrorMessage(conn)));
  }
  // NOTICEs ("relation already exists, skipping") are not errors and would clutter stderr.
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  return out;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::Healthy() {
  if (Broken() || PQtransactionStatus(conn_) != PQTRANS_IDLE) return false;
  // An idle connection receives nothing unless the server is leaving: a FATAL notice
  // ("terminating connection due to administrator command"), then end-of-file, which may still
  // be on its way. Anything readable therefore means "replace me".
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  return poll(&pfd, 1, 0) == 0;
}

Status Connection::ConnectionError(std::string_view what) const {
  const std::string reason = OneLine(PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) {
    return UnavailableError("database " + where_ + ": connection lost during " + std::string(what) +
                            ": " + reason);
  }
  return InternalError("database " + where_ + ": " + std::string(what) + " failed: " + reason);
}

Status Connection::ResultError(const PGresult* result, std::string_view sql) const {
  const char* state_field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string_view state = state_field ? state_field : "";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  std::string msg = "database " + where_ + ": " +
                    (primary ? std::string(primary) : OneLine(PQresultErrorMessage(result)));
  if (detail) msg += " (" + OneLine(detail) + ")";
  if (!state.empty()) msg += " [SQLSTATE " + std::string(state) + "]";

  if (PQstatus(conn_) != CONNECTION_OK || state.starts_with("57P")) {
    return UnavailableError(msg + "; connection lost, the statement may or may not have run");
  }
  if (state == "23505") return AlreadyExistsError(msg);
  if (state == "40001" || state == "40P01" || state == "55P03") return AbortedError(msg);
  // 08P01 on a live connection is a request the server refused (e.g. the number of parameters).
  if (state == "08P01") return InvalidArgumentError(msg + " in SQL: " + Snippet(sql));
  if (state.starts_with("08") || state.starts_with("53")) return UnavailableError(msg);
  if (state.starts_with("42") || state.starts_with("22") || state.starts_with("23") ||
      state.starts_with("0A") || state.starts_with("21") || state.starts_with("25") ||
      state.starts_with("2B") || state.starts_with("3F") || state.starts_with("34")) {
    return InvalidArgumentError(msg + " in SQL: " + Snippet(sql));
  }
  if (state.starts_with("40") || state.starts_with("55")) return AbortedError(msg);
  if (state == "57014") return DeadlineExceededError(msg);  // statement_timeout, cancel
  return InternalError(msg);
}

Result<Connection::ResultPtr> Connection::RunOnce(const std::string& sql, const Params& params,
                                                  bool* stale_plan) {
  *stale_plan = false;
  PA_ASSIGN_OR_RETURN(EncodedParams p, Encode(params));
  const int n = static_cast<int>(p.values.size());
  std::string key = sql;
  key += '\0';
  key += p.signature;
  ResultPtr result(nullptr, &PQclear);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    if (const int max = MaxParamNumber(sql); n > max) {
      return InvalidArgumentError(
          "database " + where_ + ": " + std::to_string(n) + " parameters given but the SQL uses " +
          (max == 0 ? "none" : "only up to $" + std::to_string(max)) + ": " + Snippet(sql));
    }
  }
  if (it == prepared_.end() && prepared_.size() >= kMaxPrepared) {
    // Ad-hoc SQL filled the cache; start afresh so the hot statements get prepared again.
    ResultPtr dropped(PQexec(conn_, "DEALLOCATE ALL"), &PQclear);
    if (dropped && PQresultStatus(dropped.get()) == PGRES_COMMAND_OK) prepared_.clear();
  }
  if (it == prepared_.end() && prepared_.size() < kMaxPrepared) {
    std::string name = "pa_" + std::to_string(++next_statement_);
    ResultPtr prep(PQprepare(conn_, name.c_str(), sql.c_str(), n, p.types.data()), &PQclear);
    if (!prep) return ConnectionError("prepare");
    if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) return ResultError(prep.get(), sql);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  executing_ = true;
  if (it != prepared_.end()) {
    result.reset(PQexecPrepared(conn_, it->second.c_str(), n, p.values.data(), p.lengths.data(),
                                p.formats.data(), 0));
  } else {
    result.reset(PQexecParams(conn_, sql.c_str(), n, p.types.data(), p.values.data(),
                              p.lengths.data(), p.formats.data(), 0));
  }
  if (!result) return ConnectionError("query");
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (status == PGRES_EMPTY_QUERY)
    return InvalidArgumentError("database " + where_ + ": empty SQL");
  const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
  if (it != prepared_.end() && state && std::string_view(state) == "0A000") {
    // "cached plan must not change result type": a migration changed a table under a cached
    // SELECT *. Forget the statement; the caller may prepare it afresh.
    prepared_.erase(it);
    *stale_plan = true;
  }
  return ResultError(result.get(), sql);
}

Result<Connection::ResultPtr> Connection::Run(std::string_view sql, const Params& params) {
  executing_ = false;
  const std::string text(sql);
  bool stale_plan = false;
  auto result = RunOnce(text, params, &stale_plan);
  // Outside a transaction the failed statement had no effect, so preparing it again is safe.
  if (stale_plan && PQtransactionStatus(conn_) == PQTRANS_IDLE) {
    executing_ = false;
    result = RunOnce(text, params, &stale_plan);
  }
  return result;
}

Result<Rows> Connection::Query(std::string_view sql, const Params& params) {
  PA_ASSIGN_OR_RETURN(ResultPtr result, Run(sql, params));
  return ToRows(result.get());
}

Result<int64_t> Connection::Exec(std::string_view sql, const Params& params) {
  PA_ASSIGN_OR_RETURN(ResultPtr result, Run(sql, params));
  return AffectedRows(result.get());
}

Result<int64_t> Connection::ExecScript(std::string_view sql) {
  executing_ = false;
  const std::string text(sql);
  if (!PQsendQuery(conn_, text.c_str())) return ConnectionError("query");  // nothing was sent
  executing_ = true;
  int64_t changed = 0;
  Status first;
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr result(raw, &PQclear);
    switch (PQresultStatus(raw)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
        changed += AffectedRows(raw);
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        // COPY is not part of the portable subset; the protocol state cannot be recovered
        // cheaply, so the connection is dropped.
        poisoned_ = true;
        return InvalidArgumentError("database " + where_ +
                                    ": COPY is not supported: " + Snippet(sql));
      default:
        if (first.ok()) first = ResultError(raw, sql);
    }
  }
  if (!first.ok()) return first;
  if (PQstatus(conn_) != CONNECTION_OK) return ConnectionError("query");
  return changed;
}

}  // namespace pa::storage::postgres
