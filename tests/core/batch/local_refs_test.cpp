#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "batch/validate.hpp"
#include "support/temp_dir.hpp"
#include "util/safe_dir.hpp"

using namespace assetgen;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("batch: local refs must lie in the batch's folder or an allowed one, links followed",
          "[batch]") {
    test::TempDir dir;
    dir.write("batches/refs/a.png", "a");
    dir.write("secret/s.png", "s");
    fs::create_symlink(dir.file("secret/s.png"), dir.file("batches/refs/link.png"));
    batch::ValidationOptions o;
    o.confine_local_refs = true;
    o.ref_base_dir = dir.file("batches");
    CHECK(batch::local_ref_problem("refs/a.png", o).empty());
    CHECK(batch::local_ref_problem(dir.file("batches/refs/a.png"), o).empty());
    CHECK(batch::local_ref_problem("https://example.com/a.png", o).empty());
    CHECK(batch::local_ref_problem("refs/missing.png", o).empty());  // fails later, when read
    const auto up = batch::local_ref_problem("../secret/s.png", o);
    CHECK(contains(
        up, "\"../secret/s.png\" is outside the batch's folder \"" + dir.file("batches") + "\""));
    CHECK(contains(up, "--allow-local-refs DIR"));
    CHECK_FALSE(batch::local_ref_problem("/etc/passwd", o).empty());
    CHECK(contains(batch::local_ref_problem("refs/link.png", o),
                   "it leads to \"" + util::resolved_path(dir.file("secret/s.png"))));
    o.local_ref_dirs = {dir.file("secret")};
    CHECK(batch::local_ref_problem("../secret/s.png", o).empty());
    CHECK(batch::local_ref_problem("refs/link.png", o).empty());
    CHECK_FALSE(batch::local_ref_problem("/etc/passwd", o).empty());
    o.confine_local_refs = false;
    CHECK(batch::local_ref_problem("/etc/passwd", o).empty());
}
