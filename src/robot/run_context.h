// RunContext: what one run of a transaction knows while its steps execute — the definition's
// `variables`, the resolved `secrets`, and the values earlier steps extracted — and the two
// operations every step executor needs from it: `{{name}}` templating and secret masking.
//
//   RunContext ctx(def.variables, resolved_secrets);
//   PA_ASSIGN_OR_RETURN(std::string url, ctx.Substitute(step.request.url));
//   ...
//   ctx.SetExtracted("item", "42");             // visible to later steps as {{item}}
//   result.error_message = ctx.Mask(message);   // every secret value becomes "***"
//
// Templating follows spec/transaction-definition.md ("Templating") exactly: `{{name}}` (name:
// [A-Za-z_][A-Za-z0-9_]*, no spaces, the same scanner as synth::TemplateNamesIn) is replaced by,
// in this order, a value extracted by an earlier step, a secret, a variable, or a built-in:
// `{{uuid}}` (a random version-4 UUID), `{{timestamp}}` (Unix ms), `{{iso_time}}` (RFC 3339 UTC
// with ms), `{{random_int}}` (uniform in 0..2147483647). Built-ins are evaluated per occurrence.
// Substitution is one pass: replaced text is never scanned again, so an extracted value holding
// "{{secret}}" stays literal. Text that is not a template ("{{ a }}", "{{1}}") stays as written.
// An unknown name fails with kInvalidArgument "unknown template variable 'name'" (the step then
// fails with type `script`).
//
// Masking: Mask() replaces every occurrence of every non-empty secret value, and of its
// percent-encoded form, with "***", longest secrets first so that no fragment of a longer secret
// survives. Executors mask every string they put into a result, a log line or an error message.
//
// Thread-safety: one RunContext belongs to one run, whose steps execute one after another; it is
// not safe for concurrent use. Different runs use different contexts.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace pa::robot {

inline constexpr std::string_view kSecretMask = "***";

class RunContext {
 public:
  // `clock` gives {{timestamp}} and {{iso_time}}; it must outlive the context.
  RunContext(std::map<std::string, std::string> variables,
             std::map<std::string, std::string> secrets, Clock* clock = Clock::System());

  // `text` with every template replaced; see the header comment. When `used_secret` is not null
  // it is set to whether a secret's value went into the output.
  Result<std::string> Substitute(std::string_view text, bool* used_secret = nullptr) const;

  // `text` with every secret value (raw or percent-encoded) replaced by kSecretMask.
  std::string Mask(std::string_view text) const;

  // Whether `text` contains a secret value (raw or percent-encoded).
  bool ContainsSecret(std::string_view text) const;

  // Makes `{{name}}` expand to `value` for the rest of the run; a later extraction of the same
  // name replaces it.
  void SetExtracted(const std::string& name, std::string value);
  // The extracted value, or null.
  const std::string* Extracted(const std::string& name) const;

 private:
  std::string Builtin(std::string_view name) const;

  std::map<std::string, std::string> variables_;
  std::map<std::string, std::string> secrets_;
  std::map<std::string, std::string> extracted_;
  std::vector<std::string> mask_needles_;  // secret values and encodings, longest first
  Clock* clock_;
};

}  // namespace pa::robot
