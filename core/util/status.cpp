#include "util/status.hpp"

#include <cerrno>
#include <cstring>

#include <array>

namespace assetgen::util {
namespace {

struct CodeName {
    Code code;
    std::string_view name;
};

constexpr std::array k_names = {
    CodeName{Code::ok, "OK"},
    CodeName{Code::invalid_input, "INVALID_INPUT"},
    CodeName{Code::not_found, "NOT_FOUND"},
    CodeName{Code::permission_denied, "PERMISSION_DENIED"},
    CodeName{Code::unauthenticated, "AUTH_FAILED"},
    CodeName{Code::config, "CONFIG_ERROR"},
    CodeName{Code::usage, "USAGE_ERROR"},
    CodeName{Code::budget_exceeded, "BUDGET_EXCEEDED"},
    CodeName{Code::blocked, "BLOCKED"},
    CodeName{Code::ref_fetch_failed, "REF_FETCH_FAILED"},
    CodeName{Code::model_error, "MODEL_ERROR"},
    CodeName{Code::storage_io, "STORAGE_IO"},
    CodeName{Code::upstream_unavailable, "UPSTREAM_UNAVAILABLE"},
    CodeName{Code::cancelled, "CANCELLED"},
    CodeName{Code::internal, "INTERNAL"},
    CodeName{Code::quota_daily, "QUOTA_DAILY"},
    CodeName{Code::spend_cap, "SPEND_CAP"},
    CodeName{Code::billing_cap, "BILLING_CAP"},
    CodeName{Code::rate_limited, "MODEL_RATE_LIMIT"},
    CodeName{Code::unavailable, "MODEL_UNAVAILABLE"},
    CodeName{Code::deadline_exceeded, "TIMEOUT"},
    CodeName{Code::bad_response, "BAD_RESPONSE"},
};

}  // namespace

std::string_view code_name(Code code) {
    for (const auto& n : k_names) {
        if (n.code == code) {
            return n.name;
        }
    }
    return "INTERNAL";
}

std::optional<Code> code_from_name(std::string_view name) {
    for (const auto& n : k_names) {
        if (n.name == name) {
            return n.code;
        }
    }
    return std::nullopt;
}

bool is_transient(Code code) {
    switch (code) {
        case Code::rate_limited:
        case Code::unavailable:
        case Code::deadline_exceeded:
        case Code::bad_response:
            return true;
        default:
            return false;
    }
}

std::string Status::to_string() const {
    if (ok()) {
        return "OK";
    }
    return std::string(code_name(m_code)) + ": " + m_message;
}

Status io_error(const std::string& what, int err) {
    if (err == EACCES || err == EPERM) {
        return Status(Code::permission_denied, what + ": permission denied");
    }
    return Status(Code::storage_io, what + ": " + std::strerror(err));
}

}  // namespace assetgen::util
