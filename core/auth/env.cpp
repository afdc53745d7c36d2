#include "auth/env.hpp"

#include <cstdlib>

namespace assetgen::auth {

Env Env::process() {
    return Env([](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string(value);
    });
}

Env Env::from_map(std::map<std::string, std::string> values) {
    return Env([values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) {
            return std::nullopt;
        }
        return it->second;
    });
}

std::string Env::get(const std::string& name) const {
    if (!m_getter) {
        return "";
    }
    return m_getter(name).value_or("");
}

}  // namespace assetgen::auth
