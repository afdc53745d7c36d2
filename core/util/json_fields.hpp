#pragma once
// Typed members of a small JSON document that assetgen itself writes and reads back (the budget
// lease document, the gs:// job lock): an integer or a string at a key, or an error naming
// where it should have been. Header-only and templated on the JSON type, so that only the files
// that already parse with nlohmann/json pay for its header.

#include <cstdint>
#include <string>

#include "util/status.hpp"

namespace assetgen::util {

// INVALID_INPUT "<document>: <where><key> must be an integer" unless j[key] is an integer.
template <class Json>
Result<std::int64_t> json_int_at(const Json& j, const char* key, const std::string& where,
                                 const char* document) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) {
        return error(Code::invalid_input,
                     std::string(document) + ": " + where + key + " must be an integer");
    }
    return it->template get<std::int64_t>();
}

// INVALID_INPUT "<document>: <where><key> must be a string" unless j[key] is a string.
template <class Json>
Result<std::string> json_string_at(const Json& j, const char* key, const std::string& where,
                                   const char* document) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        return error(Code::invalid_input,
                     std::string(document) + ": " + where + key + " must be a string");
    }
    return it->template get<std::string>();
}

}  // namespace assetgen::util
