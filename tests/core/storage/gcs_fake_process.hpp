#pragma once
// tests/fakes/gcs_fake.py as a child process, and its control API.

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http.hpp"
#include "support/fake_process.hpp"

namespace assetgen::test::gcs {

class FakeGcsProcess : public FakeProcess {
public:
    explicit FakeGcsProcess(std::vector<std::string> flags = {})
        : FakeProcess("gcs_fake.py", std::move(flags)) {}

    // POST /_fake/faults with these rules (a JSON array) and seed; true on 200.
    bool set_faults(net::HttpTransport& t, const nlohmann::json& rules, int seed = 7) const {
        return control(t, "POST", "/_fake/faults",
                       nlohmann::json{{"rules", rules}, {"seed", seed}}.dump())
                   .status == 200;
    }
    // GET /_fake/dump?bucket=B&prefix=P →
    // {"objects":[{"name","generation","componentCount","text",...}]}.
    nlohmann::json dump(net::HttpTransport& t, const std::string& bucket,
                        const std::string& prefix = "") const {
        return nlohmann::json::parse(
            control(t, "GET", "/_fake/dump?bucket=" + bucket + "&prefix=" + prefix, "").body);
    }
    // GET /_fake/log → one entry per API request.
    nlohmann::json log(net::HttpTransport& t) const {
        return nlohmann::json::parse(control(t, "GET", "/_fake/log", "").body);
    }

private:
    net::HttpResponse control(net::HttpTransport& t, const std::string& method,
                              const std::string& path, std::string body) const {
        net::HttpRequest r;
        r.method = method;
        r.url = "http://" + host() + path;
        r.body = std::move(body);
        r.headers.emplace_back("Content-Type", "application/json");
        auto answer = t.send(r);
        if (!answer.ok()) {
            throw std::runtime_error("gcs_fake control: " + answer.status().to_string());
        }
        return std::move(answer).value();
    }
};

}  // namespace assetgen::test::gcs
