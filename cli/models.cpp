// `assetgen models`: the model catalog (budget/catalog.hpp) as a table, JSON (--json) or the
// Markdown table README.md carries (--markdown; tests/e2e/models-readme-table.sh checks that
// the two agree): id, lifecycle, sizes and the price of one image per size and tier.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "budget/catalog.hpp"
#include "commands.hpp"
#include "table.hpp"

namespace assetgen::cli {
namespace {

struct ModelsOptions {
    bool json = false;
    bool markdown = false;
    std::string models_file;
};

// $0.067, $0.0335, $0.24: dollars with as many decimals as the amount has (at least 2).
std::string dollars(util::Micros m) {
    std::string frac = std::to_string(m % 1'000'000);
    frac = std::string(6 - frac.size(), '0') + frac;
    while (frac.size() > 2 && frac.back() == '0') {
        frac.pop_back();
    }
    return "$" + std::to_string(m / 1'000'000) + "." + frac;
}

std::string lifecycle_text(const budget::CatalogModel& m) {
    std::string t(budget::lifecycle_name(m.lifecycle));
    if (!m.lifecycle_date.empty()) {
        t += " " + m.lifecycle_date;
    }
    if (!m.replacement.empty()) {
        t += " -> " + m.replacement;
    }
    return t;
}

void print(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
}

ExitCode run_models(const ModelsOptions& o, Console& console) {
    budget::Catalog loaded;
    const budget::Catalog* c = &budget::builtin_catalog();
    if (!o.models_file.empty()) {
        auto r = budget::load_catalog_file(o.models_file);
        if (!r.ok()) {
            return console.fail(r.status());
        }
        loaded = std::move(r).value();
        c = &loaded;
    }
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : c->models) {
            nlohmann::json per_image = nlohmann::json::object();
            for (budget::Tier t : budget::k_all_tiers) {
                for (const auto& s : m.sizes) {
                    per_image[std::string(budget::tier_name(t))][s] =
                        util::to_dollars(m.prices.at(t).per_image.at(s));
                }
            }
            out.push_back({{"id", m.id},
                           {"aliases", m.aliases},
                           {"apis", m.apis},
                           {"lifecycle",
                            {{"state", budget::lifecycle_name(m.lifecycle)},
                             {"date", m.lifecycle_date},
                             {"replacement", m.replacement}}},
                           {"sizes", m.sizes},
                           {"default_size", m.default_size},
                           {"aspect_ratios", m.aspect_ratios},
                           {"per_image_usd", per_image}});
        }
        print(out.dump(1) + "\n");
        return ExitCode::ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : c->models) {
        for (const auto& s : m.sizes) {
            std::vector<std::string> row{m.id, lifecycle_text(m), s};
            for (budget::Tier t : budget::k_all_tiers) {
                row.push_back(dollars(m.prices.at(t).per_image.at(s)));
            }
            rows.push_back(std::move(row));
        }
    }
    const std::vector<std::string> titles{"model", "lifecycle", "size",    "standard",
                                          "flex",  "batch",     "priority"};
    if (o.markdown) {
        std::string md = "| " + titles[0];
        for (std::size_t i = 1; i < titles.size(); ++i) {
            md += " | " + titles[i];
        }
        md += " |\n|---|---|---|---:|---:|---:|---:|\n";
        for (auto& row : rows) {
            row[0] = "`" + row[0] + "`";
            std::string line = "|";
            for (const auto& cell : row) {
                line += " " + cell + " |";
            }
            md += line + "\n";
        }
        md += "\nPrice of one image per size and tier (the catalog read " + c->read +
              "; `assetgen models --markdown` writes this table).\n";
        print(md);
        return ExitCode::ok;
    }
    Table table({{titles[0]},
                 {titles[1]},
                 {titles[2]},
                 {titles[3], Align::right},
                 {titles[4], Align::right},
                 {titles[5], Align::right},
                 {titles[6], Align::right}});
    for (auto& row : rows) {
        table.add_row(std::move(row));
    }
    print(table.render_aligned());
    return ExitCode::ok;
}

}  // namespace

void register_models(CLI::App& app, Action& action) {
    auto o = std::make_shared<ModelsOptions>();
    auto* sub = app.add_subcommand(
        "models", "list the model catalog: lifecycle, sizes, price of an image per tier");
    sub->add_flag("--json", o->json, "print the catalog as JSON");
    sub->add_flag("--markdown", o->markdown,
                  "print the price table as Markdown (README.md carries it)");
    sub->add_option("--models", o->models_file, "a model catalog replacing the built-in one")
        ->check(CLI::ExistingFile);
    sub->footer(
        "Examples:\n"
        "  assetgen models\n"
        "  assetgen models --json | jq '.[] | select(.lifecycle.state == \"ga\") | .id'");
    sub->callback([o, &action] {
        action = [o](Console& c, const context::Context&) { return run_models(*o, c); };
    });
}

}  // namespace assetgen::cli
