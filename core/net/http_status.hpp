#pragma once
// The one table from an HTTP status to a stable error code. Every place that turns an HTTP
// answer into a Status (model API, Cloud Storage, reference fetches, OAuth, IAM) starts here;
// a caller may refine by the body (an API_KEY_INVALID 400 is an auth failure) but never
// contradicts the table. It follows google.rpc.Code's HTTP mapping
// (https://cloud.google.com/apis/design/errors#handling_errors) and DESIGN.md §5: 408, 429 and
// 5xx are transient (retried), 400/401/402/403/404 are not.

#include "util/status.hpp"

namespace assetgen::net {

// 401 → unauthenticated; 402 and 403 → permission_denied; 404 and 410 → not_found;
// 408, 499 (client closed) and 504 (DEADLINE_EXCEEDED) → deadline_exceeded; 429 → rate_limited;
// other 5xx → unavailable; any other status (400, 409, 412, 413, …) → `other`, the caller's code
// for "the request was refused" (MODEL_ERROR, STORAGE_IO, INVALID_INPUT, …).
util::Code code_for_http_status(int status, util::Code other);

}  // namespace assetgen::net
