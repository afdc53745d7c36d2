#pragma once
// What every provider and batch client does to a Status before it leaves: util::redact, then
// the secret it sent (an API key, a bearer token) replaced wherever it appears, with the code,
// HTTP status, retry hint and billed usage kept.

#include <string_view>

#include "util/status.hpp"

namespace assetgen::provider {

util::Status scrub(const util::Status& s, std::string_view secret);

}  // namespace assetgen::provider
