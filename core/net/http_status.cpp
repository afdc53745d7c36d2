#include "net/http_status.hpp"

namespace assetgen::net {

util::Code code_for_http_status(int status, util::Code other) {
    using util::Code;
    switch (status) {
        case 401:
            return Code::unauthenticated;
        case 402:  // prepaid credit used up: nothing a retry cures; the operator must act
        case 403:
            return Code::permission_denied;
        case 404:
        case 410:
            return Code::not_found;
        case 408:
        case 499:
        case 504:
            return Code::deadline_exceeded;
        case 429:
            return Code::rate_limited;
        default:
            break;
    }
    if (status >= 500 && status <= 599) {
        return Code::unavailable;
    }
    return other;
}

}  // namespace assetgen::net
