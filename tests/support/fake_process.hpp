#pragma once
// Runs one of tests/fakes/*.py (python3 from PATH) as a child process for integration tests, on
// a free loopback port it reports through a port file. The child is stopped (SIGTERM to its own
// pid) on destruction.

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

#include "support/temp_dir.hpp"

extern char** environ;

namespace assetgen::test {

class FakeProcess {
public:
    // Starts tests/fakes/<script> with extra flags and waits (up to 10 s) for its port file.
    // Throws std::runtime_error when python3 or the script cannot be started.
    FakeProcess(const std::string& script, std::vector<std::string> flags) {
        const std::string port_file = m_dir.file("port");
        std::vector<std::string> args = {
            "python3",     std::string(ASSETGEN_SOURCE_DIR) + "/tests/fakes/" + script,
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
            throw std::runtime_error("cannot start python3 for " + script);
        }
        // Polling for a child's start-up is the one real wait here.
        for (int i = 0; i < 500; ++i) {
            std::ifstream in(port_file);
            if (in >> m_port) {
                return;
            }
            int status = 0;
            if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = 0;
                throw std::runtime_error(script + " exited at start-up: " + m_dir.read("fake.log"));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error(script + " did not write its port file");
    }
    ~FakeProcess() {
        if (m_pid > 0) {
            kill(m_pid, SIGTERM);
            int status = 0;
            waitpid(m_pid, &status, 0);
        }
    }
    FakeProcess(const FakeProcess&) = delete;
    FakeProcess& operator=(const FakeProcess&) = delete;

    // "127.0.0.1:<port>" (the form GCE_METADATA_HOST and STORAGE_EMULATOR_HOST take).
    std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    // "http://127.0.0.1:<port>".
    std::string base_url() const { return "http://" + host(); }

private:
    TempDir m_dir;
    pid_t m_pid = 0;
    int m_port = 0;
};

}  // namespace assetgen::test
