// Go and Prometheus library behaviour the engine must reproduce bit for bit: number and
// duration literals, string unquoting, float formatting (count_values labels) and parsing (`le`
// labels), and Go's math corner cases (Max/Min with NaN and signed zeros, Log2/Log10).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pa::promql {

// strconv.ParseFloat(s, 64): decimal or hexadecimal (with p exponent) floats, optional sign,
// "inf"/"infinity"/"nan" in any case. nullopt when malformed (out of range gives ±Inf, as Go).
// `out_of_range` (if given) tells a well-formed but too large number from a malformed one.
std::optional<double> ParseGoFloat(std::string_view s, bool* out_of_range = nullptr);

// A PromQL number literal: strconv.ParseInt(s, 0, 64) (so 0x1f is hex and 010 is octal), else
// ParseGoFloat.
std::optional<double> ParseNumberLiteral(std::string_view s);

// strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip decimal without exponent, "+Inf",
// "-Inf", "NaN".
std::string FormatGoFloat(double v);

// model.ParseDuration: [0-9]+ units y w d h m s ms, each at most once, in that order. Result in
// ms; nullopt when malformed or overflowing.
std::optional<int64_t> ParsePromDuration(std::string_view s);

// Prometheus's strutil.Unquote of a lexed string token (quotes included). nullopt if malformed.
std::optional<std::string> UnquotePromString(std::string_view s);

// model.LabelName.IsValid: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view s);

// Go's math.Max / math.Min: NaN if either is NaN; +0 beats -0 for Max, -0 for Min.
double GoMax(double a, double b);
double GoMin(double a, double b);
// Go's math.Exp and math.Log as compiled for amd64 (Prometheus's platform), whose assembly
// differs from libm at the edges: Exp returns +Inf from x ≈ 709.44 and 0 below x ≈ -708.75,
// Log mishandles subnormal inputs. Log2 (exact for powers of two) and Log10 (= Log(x)/Ln10)
// build on Log as Go's do.
double GoExp(double x);
double GoLog(double x);
double GoLog2(double x);
double GoLog10(double x);

// Go's int64(f) for the values PromQL converts (topk's k, calendar functions): truncation
// toward zero; NaN and out-of-range values give INT64_MIN as on amd64.
int64_t GoFloatToInt64(double f);

}  // namespace pa::promql
