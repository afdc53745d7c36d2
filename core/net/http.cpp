#include "net/http.hpp"

#include "util/text.hpp"

namespace assetgen::net {

std::string HttpRequest::describe() const {
    return util::redact(method + " " + url);
}

bool is_body_too_large(const util::Status& status) {
    return status.code() == util::Code::bad_response &&
           status.message().find(k_body_too_large) != std::string::npos;
}

std::string HttpResponse::header(std::string_view name) const {
    std::string wanted = util::to_lower(name);
    for (const auto& [key, value] : headers) {
        if (key.size() == wanted.size() && util::to_lower(key) == wanted) {
            return value;
        }
    }
    return "";
}

}  // namespace assetgen::net
