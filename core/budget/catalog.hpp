#pragma once
// The model catalog: which image models exist, which APIs serve them, where they are in their
// lifecycle (GA, preview, deprecated on a date, shut down on a date, with the replacement Google
// names), the sizes and aspect ratios they offer, their token figures and their prices at every
// service tier, each fact with the page it was read from and the date. The built-in catalog is
// core/budget/models.json, compiled in (CMake turns it into a .cpp); `--models FILE`,
// ASSETGEN_MODELS or the config's `models` replace it. PriceTable (prices.hpp) is built from it.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "budget/model_price.hpp"
#include "budget/tier.hpp"
#include "util/status.hpp"

namespace assetgen::budget {

enum class Lifecycle { ga, preview, deprecated, shutdown };
std::string_view lifecycle_name(Lifecycle l);

struct Source {
    std::string url;
    std::string read;  // YYYY-MM-DD
    std::string via;   // "" or where the page was read through (a mirror, a third party)
};

struct CatalogModel {
    std::string id;                    // the API's model id, e.g. "gemini-3.1-flash-image"
    std::vector<std::string> aliases;  // other ids that name the same model
    std::vector<std::string> apis;     // "gemini", "vertex"
    Lifecycle lifecycle = Lifecycle::ga;
    std::string lifecycle_date;      // deprecated: the announced shutdown; shutdown: when it was
    std::string replacement;         // "" when the page names none
    std::vector<std::string> sizes;  // imageSize values offered: "512", "1K", "2K", "4K"
    std::string default_size;        // what "" (no imageSize sent) gets
    std::vector<std::string> aspect_ratios;
    // One price per tier, every tier present. Each carries the token figures too (the same
    // for every tier).
    std::map<Tier, ModelPrice> prices;
    std::map<std::string, Source> sources;  // "lifecycle", "sizes", "prices.flex", ...

    bool offers_size(const std::string& size) const;           // "" is always offered
    bool offers_aspect_ratio(const std::string& ratio) const;  // "" is always offered
};

struct Catalog {
    std::string read;           // the date the pages were read
    std::string default_model;  // the model a run uses when none is given
    std::vector<CatalogModel> models;
    std::vector<std::string> notes;  // where pages are silent or disagree

    // By id or alias (a leading "models/" ignored); nullptr when unknown.
    const CatalogModel* find(std::string_view id) const;
};

// Reads a catalog (the format of core/budget/models.json; README.md, "The model catalog").
// Strict: unknown keys, missing keys, wrong types, unknown tiers, sizes or lifecycle states,
// duplicate ids, a "like" naming no earlier model, amounts past the sane ceilings (amounts.hpp)
// are CONFIG_ERROR "<where>:<line>: models.<id>.<key>: <what>".
util::Result<Catalog> parse_catalog(const std::string& text, const std::string& where);

// The built-in catalog's text (generated from core/budget/models.json) and the catalog itself.
std::string_view builtin_catalog_text();
const Catalog& builtin_catalog();

// What the catalog's lifecycle says about sending requests for `model` on `today` (YYYY-MM-DD,
// UTC). A model shut down (state shutdown, or deprecated with a shutdown date on or before
// today) is CONFIG_ERROR naming the date and the replacement, unless allow_retired (then it
// is a warning); a deprecated model still served gives a warning naming the shutdown date and
// the replacement; GA, preview and unknown models (priced or refused elsewhere) give nothing.
// `warning` receives the warning text ("" when none).
util::Status check_lifecycle(const Catalog& catalog, const std::string& model,
                             const std::string& today, bool allow_retired, std::string& warning);

// Reads a catalog file (at most 4 MiB). CONFIG_ERROR naming the file when it cannot be read.
util::Result<Catalog> load_catalog_file(const std::string& path);

// The 1-based line of a nested key in a JSON text: each name searched as "name" after the
// previous one (good enough for the files people write; 0 when not found).
std::size_t json_line_of(const std::string& text, const std::vector<std::string>& path);

}  // namespace assetgen::budget
