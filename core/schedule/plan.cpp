#include "schedule/plan.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "refs/ref_location.hpp"
#include "util/atomic_file.hpp"
#include "util/hash.hpp"

namespace assetgen::schedule {

namespace {

// A new empty temp file for a copy of the batch.
util::Result<std::string> make_temp_file() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/assetgen-batch-XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
        return util::error(util::Code::storage_io, "cannot create a temp file for the batch in " +
                                                       tmpl.substr(0, tmpl.rfind('/')));
    }
    ::close(fd);
    return tmpl;
}

util::Result<std::string> hash_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        return util::error(util::Code::storage_io, path + ": cannot read");
    }
    util::Sha256Stream h;
    char buf[1 << 16];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        h.update(std::string_view(buf, static_cast<size_t>(f.gcount())));
    }
    return h.hex();
}

}  // namespace

util::Result<std::unique_ptr<BatchInput>> BatchInput::open(const std::string& location,
                                                           const std::string& format,
                                                           storage::Storage* storage) {
    auto in = std::unique_ptr<BatchInput>(new BatchInput());
    in->m_location = location;
    if (location == "-") {
        TRY_ASSIGN(in->m_path, make_temp_file());
        in->m_temp = true;
        std::ofstream out(in->m_path, std::ios::binary);
        out << std::cin.rdbuf();
        out.close();
        if (!out) {
            return util::error(util::Code::storage_io, "cannot copy stdin to " + in->m_path);
        }
        in->m_display = "<stdin>";
    } else if (storage::is_gcs(location)) {
        if (storage == nullptr) {
            return util::error(util::Code::config, location + ": no Cloud Storage client for a gs:// batch");
        }
        auto data = storage->get(location);
        if (!data.ok()) {
            if (data.status().code() == util::Code::not_found) {
                return util::error(util::Code::not_found,
                                   location + ": no such object (give the gs:// location of a CSV, "
                                              "JSON or JSONL export)");
            }
            return data.status();
        }
        TRY_ASSIGN(in->m_path, make_temp_file());
        in->m_temp = true;
        TRY(util::write_file_atomic(in->m_path, *data));
        in->m_display = location;
    } else {
        in->m_path = location;
        in->m_display = location;
        if (::access(location.c_str(), R_OK) != 0) {
            return util::error(util::Code::not_found,
                               location + ": no such file (give a CSV, JSON or JSONL export, or - for stdin)");
        }
    }
    if (!format.empty()) {
        TRY_ASSIGN(in->m_format, batch::parse_format(format));
    } else if (location != "-") {
        TRY_ASSIGN(in->m_format, batch::format_from_path(location));
    }
    TRY_ASSIGN(in->m_sha256, hash_file(in->m_path));
    return in;
}

BatchInput::~BatchInput() {
    if (m_temp) {
        ::unlink(m_path.c_str());
    }
}

std::string BatchInput::refs_base_dir() const {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (m_location == "-" || storage::is_gcs(m_location)) {
        return cwd.string();
    }
    return (cwd / std::filesystem::path(m_location)).parent_path().lexically_normal().string();
}

util::Result<Plan> plan_batch(const BatchInput& input, const PlanOptions& options,
                              const budget::PriceTable& prices, const DoneIndex& done) {
    Plan plan;
    TRY_ASSIGN(auto source, batch::open_rows(input.path(), input.format(), input.display_name()));
    batch::Validator validator(options.validation);
    std::set<std::string> models;
    // The file's global refs are known only at its end, so the estimate waits for them.
    struct ToRun {
        std::string model;
        std::size_t prompt_bytes;
        std::size_t row_refs;
        int images;
    };
    std::vector<ToRun> to_run;
    // Done rows with a recorded content key, checked once the global refs are known.
    struct DoneRow {
        std::string where;
        std::string scene_id;
        std::string part;
        std::vector<std::string> recorded;  // per variant found done with a key
    };
    std::vector<DoneRow> done_rows;
    batch::validate_all(*source, validator, input.display_name(), [&](batch::Row&& row) {
        if (options.accept && !options.accept(row)) {
            return;
        }
        ++plan.rows;
        plan.rows_with_refs += row.refs.empty() ? 0 : 1;
        const std::string model = row.model.empty() ? options.model : row.model;
        models.insert(model);
        ToRun t{model, row.prompt.size(), row.refs.size(), 0};
        DoneRow d;
        for (int v = 1; v <= row.variants; ++v) {
            ++plan.images;
            auto it = done.find(done_key(row.scene_id, v));
            if (it == done.end()) {
                ++t.images;
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
        plan.images_to_run += static_cast<std::size_t>(t.images);
        if (t.images > 0) {
            to_run.push_back(std::move(t));
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
    for (const auto& t : to_run) {
        const std::size_t ref_images = std::min(static_cast<std::size_t>(options.max_refs),
                                                t.row_refs + plan.global_refs.size());
        auto est = prices.estimate(
            budget::RequestShape{t.model, options.image_size, t.prompt_bytes, ref_images});
        if (est.ok()) {
            plan.estimate += *est * t.images;
        }
    }
    for (const auto& m : models) {
        TRY(prices.find(m).status());
    }
    plan.problems = validator.problems();
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
            "mode); nothing was run and nothing was spent. Give a new --job-id to make the batch as "
            "it is now, or put the rows back as they were to finish the job");
}

util::Result<std::unique_ptr<RowReader>> RowReader::open(const BatchInput& input,
                                                         const batch::ValidationOptions& options,
                                                         const std::vector<std::string>& columns) {
    auto r = std::unique_ptr<RowReader>(new RowReader());
    r->m_validator = std::make_unique<batch::Validator>(options);
    TRY_ASSIGN(r->m_source, batch::open_rows(input.path(), input.format(), input.display_name()));
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
