#pragma once
// A storage backend's failure that outlived its retries, reported as a storage failure: the
// transient codes (HTTP 5xx, 429, 408, a bad answer) become STORAGE_IO (exit 74) with `where`
// in front; other codes (NOT_FOUND, AUTH_FAILED, ...) stay. For the ledger and the job's
// records, whose errors must not read as the model's (MODEL_UNAVAILABLE, exit 69).

#include <string>

#include "util/status.hpp"

namespace assetgen::schedule {

inline util::Status as_storage_error(util::Status status, const std::string& where) {
    if (status.ok() || !util::is_transient(status.code())) {
        return status;
    }
    util::Status out(util::Code::storage_io, where + ": " + status.message());
    out.with_http_status(status.http_status());
    return out;
}

}  // namespace assetgen::schedule
