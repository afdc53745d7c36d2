#pragma once
// The process environment as a lookup function, so that credential discovery can be tested
// without touching the real environment.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace assetgen::auth {

class Env {
public:
    using Getter = std::function<std::optional<std::string>(const std::string&)>;

    // Looks names up through getter.
    explicit Env(Getter getter) : m_getter(std::move(getter)) {}
    // The real environment (std::getenv).
    static Env process();
    // A fixed set of variables, for tests.
    static Env from_map(std::map<std::string, std::string> values);

    // The variable's value; "" when it is unset or set to the empty string.
    std::string get(const std::string& name) const;

private:
    Getter m_getter;
};

}  // namespace assetgen::auth
