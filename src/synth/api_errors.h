// FieldErrors (the synth parsers' findings) as the API's 422 answer:
// {"error": "validation", "message": ..., "details": [{"path", "message"}]}.
#pragma once

#include "gateway/api.h"
#include "synth/field_error.h"

namespace pa::synth {

inline gateway::Response ValidationResponse(const FieldErrors& errors) {
  gateway::ValidationErrors v;
  for (const FieldError& e : errors) v.Add(e.path, e.message);
  return v.ToResponse();
}

}  // namespace pa::synth
