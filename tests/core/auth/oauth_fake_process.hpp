#pragma once
// tests/fakes/oauth_fake.py as a child process: the OAuth token endpoint, the metadata server
// and IAM signBlob on one loopback port.

#include <string>
#include <vector>

#include "support/fake_process.hpp"

namespace assetgen::test::oauth {

class FakeOAuthProcess : public FakeProcess {
public:
    explicit FakeOAuthProcess(std::vector<std::string> flags = {})
        : FakeProcess("oauth_fake.py", std::move(flags)) {}
};

}  // namespace assetgen::test::oauth
