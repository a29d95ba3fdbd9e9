// FieldError: one problem with one field of a document a client sent, by its path
// ("steps[2].assert[0].in", "[3].started_at" for the fourth element of an array body).
// The synth parsers collect every problem of a document in a std::vector<FieldError>; the API
// turns them into 422 {"error": "validation", "details": [{"path", "message"}]}.
#pragma once

#include <string>
#include <vector>

namespace pa::synth {

struct FieldError {
  std::string path;
  std::string message;
  friend bool operator==(const FieldError&, const FieldError&) = default;
};

using FieldErrors = std::vector<FieldError>;

}  // namespace pa::synth
