#pragma once
// Runs tests/fakes/gcs_fake.py (python3 from PATH) as a child process for integration tests,
// and talks to its control API. The child is stopped (SIGTERM to its own pid) on destruction.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace assetgen::test::gcs {

class FakeGcsProcess {
public:
    // Starts the fake with extra flags and waits (up to 10 s) for its port file. Throws
    // std::runtime_error when python3 or the script cannot be started.
    explicit FakeGcsProcess(std::vector<std::string> flags = {}) {
        const std::string port_file = m_dir.file("port");
        std::vector<std::string> args = {
            "python3",     std::string(ASSETGEN_SOURCE_DIR) + "/tests/fakes/gcs_fake.py",
            "--port",      "0",
            "--port-file", port_file};
        args.insert(args.end(), flags.begin(), flags.end());
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        const std::string log = m_dir.file("fake.log");
        posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        int rc = posix_spawnp(&m_pid, "python3", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            throw std::runtime_error("cannot start python3 for gcs_fake.py");
        }
        // Polling for a child's start-up is the one real wait here; everything else is virtual.
        for (int i = 0; i < 500; ++i) {
            std::ifstream in(port_file);
            if (in >> m_port) {
                return;
            }
            int status = 0;
            if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = 0;
                throw std::runtime_error("gcs_fake.py exited at start-up: " +
                                         m_dir.read("fake.log"));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("gcs_fake.py did not write its port file");
    }
    ~FakeGcsProcess() {
        if (m_pid > 0) {
            kill(m_pid, SIGTERM);
            int status = 0;
            waitpid(m_pid, &status, 0);
        }
    }
    FakeGcsProcess(const FakeGcsProcess&) = delete;
    FakeGcsProcess& operator=(const FakeGcsProcess&) = delete;

    // "127.0.0.1:<port>", the form STORAGE_EMULATOR_HOST takes.
    std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }

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

    TempDir m_dir;
    pid_t m_pid = 0;
    int m_port = 0;
};

}  // namespace assetgen::test::gcs
