#include <catch2/catch.hpp>

#include <deque>

#include "schedule/model_check.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using util::Code;
using util::Status;

namespace {

// Answers check_model from a script; generate() is never called by check_models.
class ScriptedProvider final : public provider::ImageProvider {
public:
    std::deque<Status> answers;
    std::vector<std::string> asked;
    util::Result<provider::ImageResult> generate(const provider::ImageRequest&) override {
        return Status(Code::internal, "generate must not be called");
    }
    Status check_model(const std::string& model) override {
        asked.push_back(model);
        Status s = answers.front();
        answers.pop_front();
        return s;
    }
};

}  // namespace

TEST_CASE("model check: a transient failure is retried after the server's hint",
          "[schedule][models]") {
    ScriptedProvider p;
    p.answers = {Status(Code::unavailable, "models.get: HTTP 503"),
                 Status(Code::rate_limited, "models.get: HTTP 429")
                     .with_retry_after(std::chrono::milliseconds(7000)),
                 Status(), Status()};
    test::FakeClock clock;
    schedule::ModelCheckOptions o;
    std::vector<std::string> said;
    o.log = [&](const std::string& line) { said.push_back(line); };
    CHECK(schedule::check_models(p, {"a-image", "b-image"}, o, clock).ok());
    CHECK(p.asked == std::vector<std::string>{"a-image", "a-image", "a-image", "b-image"});
    CHECK(said.size() == 2);
    CHECK(clock.steady().time_since_epoch() >= std::chrono::milliseconds(7000));
}

TEST_CASE("model check: an unknown model and a refused key are not retried", "[schedule][models]") {
    test::FakeClock clock;
    for (Code code : {Code::config, Code::unauthenticated, Code::permission_denied}) {
        ScriptedProvider p;
        p.answers = {Status(code, "no")};
        auto st = schedule::check_models(p, {"x-image", "y-image"}, {}, clock);
        CHECK(st.code() == code);
        CHECK(p.asked.size() == 1);  // the second model is not asked either
    }
    ScriptedProvider p;  // attempts run out
    p.answers = {Status(Code::unavailable, "1"), Status(Code::unavailable, "2"),
                 Status(Code::unavailable, "3"), Status(Code::unavailable, "4")};
    CHECK(schedule::check_models(p, {"x-image"}, {}, clock).code() == Code::unavailable);
    CHECK(p.asked.size() == 4);
}
