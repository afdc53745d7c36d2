#include "schedule/plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "refs/ref_location.hpp"
#include "util/atomic_file.hpp"
#include "util/hash.hpp"
#include "util/temp_stream.hpp"

namespace assetgen::schedule {

namespace {

using util::Code;

std::string listed(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + i;
    }
    return out;
}

// The catalog's checks of the models a plan asks for (PlanOptions::catalog).
class ModelRules {
public:
    explicit ModelRules(const PlanOptions& o) : m_o(o) {}

    // A size or aspect ratio the row's model does not offer is a problem of the row.
    void check_row(const batch::Row& row, const std::string& model, batch::Validator& validator) {
        const budget::CatalogModel* m = m_o.catalog ? m_o.catalog->find(model) : nullptr;
        if (!m) {
            return;
        }
        if (!m->offers_size(m_o.image_size)) {
            validator.add({row.where, "--image-size",
                           "\"" + m_o.image_size + "\" is not offered by " + m->id +
                               " (it offers " + listed(m->sizes) +
                               "); give one of those, or a model that offers it"});
        }
        if (!m->offers_aspect_ratio(row.aspect_ratio)) {
            validator.add({row.where, "aspect_ratio",
                           "\"" + row.aspect_ratio + "\" is not offered by " + m->id +
                               " (it offers " + listed(m->aspect_ratios) + ")"});
        }
    }

    // A model of images to run: the first row asking for it by name is remembered.
    void note_to_run(const batch::Row& row, const std::string& model) {
        m_first.emplace(model, row.model.empty() ? std::string("--model") : row.where + ": model");
    }

    // Shut-down models refuse the plan (the first by name); deprecated ones warn, once each.
    util::Status check_lifecycles(std::vector<std::string>& warnings) const {
        if (!m_o.catalog) {
            return util::ok_status();
        }
        for (const auto& [model, where] : m_first) {
            std::string warning;
            auto st = budget::check_lifecycle(*m_o.catalog, model, m_o.today,
                                              m_o.allow_retired_model, warning);
            if (!st.ok()) {
                return util::error(st.code(), where + ": " + st.message() + "; nothing was sent");
            }
            if (!warning.empty()) {
                warnings.push_back(where + ": " + warning);
            }
        }
        return util::ok_status();
    }

private:
    const PlanOptions& m_o;
    std::map<std::string, std::string> m_first;  // model -> "--model" or "<where>: model"
};

std::string errno_text(int e) {
    return std::strerror(e);
}

// The batch's copy: a nameless temp file in temp_dir ($TMPDIR) that cannot outlive the process.
util::Result<int> anonymous_temp_file(const std::string& temp_dir) {
    return util::anonymous_temp_file("the batch", temp_dir);
}

util::Status write_all(int fd, const char* data, std::size_t n, const std::string& temp_dir) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return util::error(Code::storage_io, "cannot write the batch's temp copy in " +
                                                     temp_dir + ": " + errno_text(errno));
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return util::ok_status();
}

util::Status over_limit(const std::string& display, std::uint64_t limit) {
    return util::error(Code::invalid_input, display + ": more than " + format_limit(limit) +
                                                ", the input limit; nothing was run (raise it with "
                                                "--max-input-bytes, or split the batch)");
}

struct Spooled {
    int fd = -1;
    std::uint64_t size = 0;
    std::string sha256;
};

// Copies everything `from` gives into an anonymous temp file, hashing as it goes; stops with
// INVALID_INPUT after max_bytes.
util::Result<Spooled> spool(int from, const std::string& display, std::uint64_t max_bytes,
                            const std::string& temp_dir) {
    TRY_ASSIGN(const int to, anonymous_temp_file(temp_dir));
    Spooled out{to, 0, {}};
    auto fail = [&](util::Status st) {
        ::close(to);
        return st;
    };
    util::Sha256Stream h;
    std::vector<char> buf(1 << 16);
    for (;;) {
        const ssize_t n = ::read(from, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int e = errno;
            return fail(util::io_error(display + ": read failed", e));
        }
        if (n == 0) {
            break;
        }
        if (out.size + static_cast<std::uint64_t>(n) > max_bytes) {
            return fail(over_limit(display, max_bytes));
        }
        out.size += static_cast<std::uint64_t>(n);
        h.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        if (auto st = write_all(to, buf.data(), static_cast<std::size_t>(n), temp_dir); !st.ok()) {
            return fail(st);
        }
    }
    out.sha256 = h.hex();
    return out;
}

}  // namespace

std::string format_limit(std::uint64_t bytes) {
    const std::pair<std::uint64_t, const char*> units[] = {
        {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
    for (const auto& [unit, name] : units) {
        if (bytes >= unit && bytes % unit == 0) {
            return std::to_string(bytes / unit) + " " + name;
        }
    }
    return std::to_string(bytes) + " bytes";
}

util::Result<std::unique_ptr<BatchInput>> BatchInput::open(const std::string& location,
                                                           const std::string& format,
                                                           storage::Storage* storage,
                                                           std::uint64_t max_bytes,
                                                           const std::string& temp_dir) {
    auto in = std::unique_ptr<BatchInput>(new BatchInput());
    in->m_location = location;
    bool regular = false;
    if (location == "-") {
        in->m_display = "<stdin>";
        TRY_ASSIGN(const Spooled s, spool(STDIN_FILENO, in->m_display, max_bytes, temp_dir));
        in->m_fd = s.fd;
        in->m_size = s.size;
        in->m_sha256 = s.sha256;
        if (s.size == 0) {
            return util::error(
                Code::invalid_input,
                "<stdin>: no input (stdin was empty); pipe a CSV, JSON or JSONL export into it, "
                "e.g. assetgen seed | assetgen run -");
        }
    } else if (storage::is_gcs(location)) {
        in->m_display = location;
        if (storage == nullptr) {
            return util::error(Code::config,
                               location + ": no Cloud Storage client for a gs:// batch");
        }
        // Streamed into the private copy, hashed as it passes and stopped at the limit with
        // the same message as stdin: the object is never held whole in memory.
        TRY_ASSIGN(const int to, anonymous_temp_file(temp_dir));
        in->m_fd = to;  // closed by the destructor on every path
        util::Sha256Stream h;
        std::uint64_t size = 0;
        auto read = storage->read_to(
            location,
            [&](std::string_view bytes) -> util::Status {
                if (size + bytes.size() > max_bytes) {
                    return over_limit(location, max_bytes);
                }
                size += bytes.size();
                h.update(bytes);
                return write_all(to, bytes.data(), bytes.size(), temp_dir);
            },
            storage::ReadOptions{});
        if (!read.ok()) {
            if (read.status().code() == Code::not_found) {
                return util::error(Code::not_found,
                                   location +
                                       ": no such object (give the gs:// location of a CSV, "
                                       "JSON or JSONL export)");
            }
            return read.status();
        }
        in->m_size = size;
        in->m_sha256 = h.hex();
    } else {
        in->m_display = location;
        const int fd = ::open(location.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            const int e = errno;
            if (e == ENOENT || e == ENOTDIR) {
                return util::error(
                    Code::not_found,
                    location + ": no such file (give a CSV, JSON or JSONL export, or - for stdin)");
            }
            return batch::open_error(e, location);
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int e = errno;
            ::close(fd);
            return util::error(Code::storage_io, location + ": cannot stat: " + errno_text(e));
        }
        if (S_ISDIR(st.st_mode)) {
            ::close(fd);
            return util::error(Code::invalid_input,
                               location + ": is a folder, not a CSV, JSON or JSONL file");
        }
        regular = S_ISREG(st.st_mode);
        if (regular && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
            ::close(fd);
            return over_limit(location, max_bytes);
        }
        // Every kind (a regular file, a FIFO, <(...), a device) is read once, hashed as it is
        // read, into the private copy that both passes then read: the job's hash is the hash of
        // the rows that were planned and run, even if the file changes during the run.
        auto s = spool(fd, location, max_bytes, temp_dir);
        ::close(fd);
        TRY(s.status());
        in->m_fd = s->fd;
        in->m_size = s->size;
        in->m_sha256 = s->sha256;
    }
    if (!format.empty()) {
        TRY_ASSIGN(in->m_format, batch::parse_format(format));
    } else if (location != "-" && (regular || storage::is_gcs(location) ||
                                   !std::filesystem::path(location).extension().empty())) {
        TRY_ASSIGN(in->m_format, batch::format_from_path(location));
    }
    return in;
}

BatchInput::~BatchInput() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

std::string BatchInput::refs_base_dir() const {
    return batch::ref_base_dir(m_location);
}

util::Result<Plan> plan_batch(const BatchInput& input, const PlanOptions& options,
                              const budget::PriceTable& prices, const DoneIndex& done) {
    Plan plan;
    TRY_ASSIGN(auto source,
               batch::open_rows(input.fd(), input.format(), input.display_name(), false));
    batch::Validator validator(options.validation);
    std::set<std::string> models;
    // The file's global refs are known only at its end, so the estimate waits for them. Rows of
    // the same shape cost the same, so images are counted by shape: memory stays flat in rows.
    using Shape = std::tuple<std::string, std::size_t, std::size_t>;  // model, prompt bytes, refs
    std::map<Shape, std::uint64_t> to_run;
    // Done rows with a recorded content key, checked once the global refs are known.
    struct DoneRow {
        std::string where;
        std::string scene_id;
        std::string part;
        std::vector<std::string> recorded;  // per variant found done with a key
    };
    std::vector<DoneRow> done_rows;
    ModelRules rules(options);
    batch::validate_all(*source, validator, input.display_name(), [&](batch::Row&& row) {
        if (options.accept && !options.accept(row)) {
            return;
        }
        ++plan.rows;
        plan.rows_with_refs += row.refs.empty() ? 0 : 1;
        const std::string& model = row.model.empty() ? options.model : row.model;
        models.insert(model);
        rules.check_row(row, model, validator);
        std::uint64_t images = 0;
        DoneRow d;
        for (int v = 1; v <= row.variants; ++v) {
            ++plan.images;
            auto it = done.find(done_key(row.scene_id, v));
            if (it == done.end()) {
                ++images;
            } else if (!it->second.content.empty()) {
                d.recorded.push_back(it->second.content);
            }
        }
        if (!d.recorded.empty()) {
            d.where = row.where;
            d.scene_id = row.scene_id;
            d.part = row_content_part(row, options.content);
            done_rows.push_back(std::move(d));
        }
        plan.images_to_run += static_cast<std::size_t>(images);
        if (images > 0) {
            to_run[Shape{model, row.prompt.size(), row.refs.size()}] += images;
            rules.note_to_run(row, model);
        }
    });
    plan.columns = source->columns();
    plan.global_refs = options.global_refs;
    for (const auto& g : source->global_refs()) {
        plan.global_refs.push_back(g);
    }
    for (const auto& g : plan.global_refs) {
        if (auto st = refs::check_ref(g); !st.ok()) {
            return util::error(util::Code::invalid_input, "global refs: " + st.message());
        }
        if (auto out = batch::local_ref_problem(g, options.validation); !out.empty()) {
            return util::error(util::Code::invalid_input, "global refs: " + out);
        }
    }
    for (const auto& d : done_rows) {
        const std::string now = content_key(d.part, plan.global_refs);
        for (const auto& recorded : d.recorded) {
            if (recorded != now) {
                plan.changed.push_back(ChangedRow{d.where, d.scene_id});
                break;
            }
        }
    }
    for (const auto& [shape, images] : to_run) {
        const auto& [model, prompt_bytes, row_refs] = shape;
        if (std::find(plan.models_to_run.begin(), plan.models_to_run.end(), model) ==
            plan.models_to_run.end()) {
            plan.models_to_run.push_back(model);
        }
        const std::size_t ref_images = std::min(static_cast<std::size_t>(options.max_refs),
                                                row_refs + plan.global_refs.size());
        auto est = prices.estimate(budget::RequestShape{model, options.image_size, prompt_bytes,
                                                        ref_images, options.tier});
        if (est.ok()) {
            plan.estimate += *est * static_cast<util::Micros>(images);
        }
        auto ceiling = prices.ceiling(budget::RequestShape{model, options.image_size, prompt_bytes,
                                                           ref_images, options.tier});
        if (ceiling.ok()) {
            plan.max_worst_case = std::max(plan.max_worst_case, ceiling->worst_case);
        }
    }
    for (const auto& m : models) {
        TRY(prices.find(m).status());
    }
    plan.problems = validator.problems();
    if (plan.problems.empty()) {
        TRY(rules.check_lifecycles(plan.warnings));
    }
    return plan;
}

util::Status refuse_problems(const BatchInput& input, const Plan& plan) {
    if (plan.problems.empty()) {
        return util::ok_status();
    }
    return util::error(util::Code::invalid_input,
                       input.display_name() + ": " + std::to_string(plan.problems.size()) +
                           " problem(s); nothing was run and nothing was spent");
}

util::Status refuse_changed(const BatchInput& input, const Plan& plan, const std::string& job_id) {
    if (plan.changed.empty()) {
        return util::ok_status();
    }
    return util::error(
        util::Code::invalid_input,
        input.display_name() + ": " + std::to_string(plan.changed.size()) +
            " row(s) differ from what job " + job_id +
            " made their images from (prompt, refs, ref_mode, aspect_ratio, model, image size or "
            "mode); nothing was run and nothing was spent. Give a new --job-id to make the batch "
            "as "
            "it is now, or put the rows back as they were to finish the job");
}

util::Result<std::unique_ptr<RowReader>> RowReader::open(const BatchInput& input,
                                                         const batch::ValidationOptions& options,
                                                         const std::vector<std::string>& columns) {
    auto r = std::unique_ptr<RowReader>(new RowReader());
    batch::ValidationOptions second_pass = options;
    second_pass.check_duplicate_ids = false;  // pass 1 checked the same descriptor's bytes
    r->m_validator = std::make_unique<batch::Validator>(second_pass);
    TRY_ASSIGN(r->m_source,
               batch::open_rows(input.fd(), input.format(), input.display_name(), false));
    r->m_columns = columns;
    return r;
}

util::Result<std::optional<BatchRow>> RowReader::next() {
    TRY_ASSIGN(auto raw, m_source->next());
    if (!raw) {
        return std::optional<BatchRow>();
    }
    auto row = m_validator->check(*raw);
    if (!row) {
        return util::error(util::Code::invalid_input,
                           raw->where + ": the batch changed while it was running");
    }
    BatchRow br;
    br.row = std::move(*row);
    br.cells.assign(m_columns.size(), "");
    for (const auto& [k, v] : raw->cells) {
        for (size_t i = 0; i < m_columns.size(); ++i) {
            if (m_columns[i] == k) {
                br.cells[i] = v;
                break;
            }
        }
    }
    return std::optional<BatchRow>(std::move(br));
}

}  // namespace assetgen::schedule
