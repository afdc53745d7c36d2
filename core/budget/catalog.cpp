// The model catalog's strict reader. Every fact is checked where it is read, and the first
// problem ends the read with the file, line and key named (CONFIG_ERROR, exit 78).
#include "budget/catalog.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "budget/amounts.hpp"
#include "util/text.hpp"
#include "util/text_file.hpp"

namespace assetgen::budget {
namespace {

using nlohmann::json;

constexpr std::int64_t k_max_tokens = 1'000'000;
constexpr std::uint64_t k_max_catalog_bytes = 4 << 20;

const std::set<std::string> k_sizes{"512", "1K", "2K", "4K"};
const std::set<std::string> k_apis{"gemini", "vertex"};

bool is_date(const std::string& s) {
    return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
           std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
}

bool is_ratio(const std::string& s) {
    const auto colon = s.find(':');
    auto digits = [](std::string_view d) {
        return !d.empty() && d.size() <= 3 &&
               std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    return colon != std::string::npos && digits(std::string_view(s).substr(0, colon)) &&
           digits(std::string_view(s).substr(colon + 1));
}

class Reader {
public:
    Reader(const std::string& text, const std::string& where) : m_text(text), m_where(where) {}

    // "<where>:<line>: <key>" for a path such as {"models", "<id>", "prices", "flex"}.
    std::string here(const std::vector<std::string>& path) const {
        std::string key;
        for (const auto& p : path) {
            key += (key.empty() ? "" : ".") + p;
        }
        std::vector<std::string> search;
        for (std::size_t i = 0; i < path.size(); ++i) {
            if (i == 0 && path[0] == "models" && path.size() > 1) {
                continue;  // models is an array: find the model by its id's text
            }
            search.push_back(path[i]);
        }
        const std::size_t line = json_line_of(m_text, search);
        return m_where + (line > 0 ? ":" + std::to_string(line) : "") + ": " + key;
    }
    util::Status bad(const std::vector<std::string>& path, const std::string& what) const {
        return util::error(util::Code::config, here(path) + ": " + what);
    }

    util::Status only_keys(const json& j, const std::vector<std::string>& path,
                           std::initializer_list<const char*> allowed) const {
        for (const auto& [key, value] : j.items()) {
            (void)value;
            if (std::none_of(allowed.begin(), allowed.end(),
                             [&](const char* a) { return key == a; })) {
                auto p = path;
                p.push_back(key);
                return bad(p, "unknown key");
            }
        }
        return util::ok_status();
    }
    util::Result<const json*> member(const json& j, const std::vector<std::string>& path,
                                     const char* key, bool required = true) const {
        if (!j.is_object()) {
            return bad(path, "expected an object");
        }
        auto it = j.find(key);
        if (it == j.end()) {
            if (!required) {
                return static_cast<const json*>(nullptr);
            }
            auto p = path;
            p.push_back(key);
            return bad(p, "missing");
        }
        return &*it;
    }
    util::Result<std::string> string(const json& j, const std::vector<std::string>& path) const {
        if (!j.is_string()) {
            return bad(path, "expected a string, got " + j.dump());
        }
        return j.get<std::string>();
    }
    util::Result<std::vector<std::string>> strings(const json& j,
                                                   const std::vector<std::string>& path) const {
        if (!j.is_array()) {
            return bad(path, "expected a list of strings, got " + j.dump());
        }
        std::vector<std::string> out;
        for (const auto& v : j) {
            TRY_ASSIGN(auto s, string(v, path));
            out.push_back(std::move(s));
        }
        return out;
    }
    util::Result<std::int64_t> tokens(const json& j, const std::vector<std::string>& path) const {
        if (!j.is_number_integer() || j.get<double>() < 0 || j.get<double>() > k_max_tokens) {
            return bad(path,
                       "\"" + j.dump() + "\" is not a whole number of tokens from 0 to 1000000");
        }
        return j.get<std::int64_t>();
    }
    util::Result<util::Micros> amount(const json& j, const AmountKind& kind,
                                      const std::vector<std::string>& path) const {
        if (!j.is_number()) {
            return bad(path, "expected a number of dollars, got " + j.dump());
        }
        auto a = check_json_amount(j.dump(), kind, false, here(path));
        if (!a.ok()) {
            return util::error(util::Code::config, a.status().message());
        }
        return *a;
    }
    util::Result<Source> source(const json& j, const std::vector<std::string>& path) const {
        TRY_ASSIGN(const json* s, member(j, path, "source"));
        auto p = path;
        p.push_back("source");
        TRY(only_keys(*s, p, {"url", "read", "via"}));
        Source out;
        TRY_ASSIGN(const json* url, member(*s, p, "url"));
        TRY_ASSIGN(out.url, string(*url, p));
        if (!util::starts_with(out.url, "https://")) {
            return bad(p, "url \"" + out.url + "\" is not an https:// address");
        }
        TRY_ASSIGN(const json* read, member(*s, p, "read"));
        TRY_ASSIGN(out.read, string(*read, p));
        if (!is_date(out.read)) {
            return bad(p, "read \"" + out.read + "\" is not a date YYYY-MM-DD");
        }
        TRY_ASSIGN(const json* via, member(*s, p, "via", false));
        if (via) {
            TRY_ASSIGN(out.via, string(*via, p));
        }
        return out;
    }

private:
    const std::string& m_text;
    const std::string& m_where;
};

util::Status read_lifecycle(const Reader& r, const json& j, std::vector<std::string> path,
                            CatalogModel& m) {
    TRY(r.only_keys(j, path, {"state", "date", "replacement", "source"}));
    TRY_ASSIGN(const json* state, r.member(j, path, "state"));
    TRY_ASSIGN(const std::string s, r.string(*state, path));
    const std::map<std::string, Lifecycle> states{{"ga", Lifecycle::ga},
                                                  {"preview", Lifecycle::preview},
                                                  {"deprecated", Lifecycle::deprecated},
                                                  {"shutdown", Lifecycle::shutdown}};
    auto it = states.find(s);
    if (it == states.end()) {
        return r.bad(path, "state \"" + s + "\" is not ga, preview, deprecated or shutdown");
    }
    m.lifecycle = it->second;
    const bool dated = m.lifecycle == Lifecycle::deprecated || m.lifecycle == Lifecycle::shutdown;
    TRY_ASSIGN(const json* date, r.member(j, path, "date", dated));
    if (date) {
        TRY_ASSIGN(m.lifecycle_date, r.string(*date, path));
        if (!is_date(m.lifecycle_date)) {
            return r.bad(path, "date \"" + m.lifecycle_date + "\" is not a date YYYY-MM-DD");
        }
    }
    TRY_ASSIGN(const json* repl, r.member(j, path, "replacement", false));
    if (repl) {
        TRY_ASSIGN(m.replacement, r.string(*repl, path));
    }
    TRY_ASSIGN(m.sources["lifecycle"], r.source(j, path));
    return util::ok_status();
}

util::Status read_price(const Reader& r, const json& j, const std::vector<std::string>& path,
                        ModelPrice& p, Source& src) {
    TRY(r.only_keys(j, path,
                    {"input_per_mtok", "output_text_per_mtok", "thinking_per_mtok",
                     "output_image_per_mtok", "per_image", "source"}));
    for (auto [key, field] :
         {std::pair<const char*, util::Micros*>{"input_per_mtok", &p.input_per_mtok},
          {"output_text_per_mtok", &p.output_text_per_mtok},
          {"thinking_per_mtok", &p.thinking_per_mtok},
          {"output_image_per_mtok", &p.output_image_per_mtok}}) {
        TRY_ASSIGN(const json* v, r.member(j, path, key));
        auto at = path;
        at.push_back(key);
        TRY_ASSIGN(*field, r.amount(*v, k_price_per_mtok, at));
    }
    TRY_ASSIGN(const json* per_image, r.member(j, path, "per_image"));
    auto at = path;
    at.push_back("per_image");
    if (!per_image->is_object()) {
        return r.bad(at, "expected {\"<size>\": dollars}");
    }
    p.per_image.clear();
    for (const auto& [size, v] : per_image->items()) {
        auto sp = at;
        sp.push_back(size);
        if (!k_sizes.count(size)) {
            return r.bad(sp, "\"" + size + "\" is not 512, 1K, 2K or 4K");
        }
        TRY_ASSIGN(p.per_image[size], r.amount(v, k_price_per_image, sp));
    }
    TRY_ASSIGN(src, r.source(j, path));
    return util::ok_status();
}

util::Status read_model(const Reader& r, const json& j, std::size_t index, Catalog& c) {
    std::vector<std::string> path{"models", "[" + std::to_string(index) + "]"};
    if (!j.is_object()) {
        return r.bad(path, "expected an object");
    }
    TRY_ASSIGN(const json* id_json, r.member(j, path, "id"));
    CatalogModel m;
    TRY_ASSIGN(m.id, r.string(*id_json, path));
    if (m.id.empty() || c.find(m.id)) {
        return r.bad(path, "id \"" + m.id + "\" is empty or given twice");
    }
    path[1] = m.id;
    TRY_ASSIGN(const json* like, r.member(j, path, "like", false));
    if (like) {
        // A model that differs from an earlier one only in its lifecycle (a preview id).
        TRY(r.only_keys(j, path, {"id", "like", "aliases", "lifecycle"}));
        TRY_ASSIGN(const std::string base_id, r.string(*like, path));
        const CatalogModel* base = c.find(base_id);
        if (!base) {
            return r.bad(path, "like \"" + base_id + "\" names no model above it");
        }
        const std::string id = m.id;
        m = *base;
        m.id = id;
        m.aliases.clear();
    } else {
        TRY(r.only_keys(j, path,
                        {"id", "aliases", "apis", "lifecycle", "sizes", "image_tokens",
                         "tokens_per_ref_image", "thinking", "prices"}));
    }
    TRY_ASSIGN(const json* aliases, r.member(j, path, "aliases", false));
    if (aliases) {
        TRY_ASSIGN(m.aliases, r.strings(*aliases, path));
        for (const auto& a : m.aliases) {
            if (a.empty() || c.find(a)) {
                return r.bad(path, "alias \"" + a + "\" is empty or names another model");
            }
        }
    }
    TRY_ASSIGN(const json* lifecycle, r.member(j, path, "lifecycle"));
    TRY(read_lifecycle(r, *lifecycle, {"models", m.id, "lifecycle"}, m));
    if (like) {
        c.models.push_back(std::move(m));
        return util::ok_status();
    }

    TRY_ASSIGN(const json* apis, r.member(j, path, "apis"));
    TRY_ASSIGN(m.apis, r.strings(*apis, {"models", m.id, "apis"}));
    for (const auto& a : m.apis) {
        if (!k_apis.count(a)) {
            return r.bad({"models", m.id, "apis"}, "\"" + a + "\" is not gemini or vertex");
        }
    }

    const std::vector<std::string> sp{"models", m.id, "sizes"};
    TRY_ASSIGN(const json* sizes, r.member(j, path, "sizes"));
    TRY(r.only_keys(*sizes, sp, {"values", "default", "aspect_ratios", "source"}));
    TRY_ASSIGN(const json* values, r.member(*sizes, sp, "values"));
    TRY_ASSIGN(m.sizes, r.strings(*values, sp));
    for (const auto& s : m.sizes) {
        if (!k_sizes.count(s)) {
            return r.bad(sp, "size \"" + s + "\" is not 512, 1K, 2K or 4K");
        }
    }
    if (m.sizes.empty()) {
        return r.bad(sp, "values is empty: a model offers at least one size");
    }
    TRY_ASSIGN(const json* def, r.member(*sizes, sp, "default"));
    TRY_ASSIGN(m.default_size, r.string(*def, sp));
    if (!m.offers_size(m.default_size) || m.default_size.empty()) {
        return r.bad(sp, "default \"" + m.default_size + "\" is not one of the values");
    }
    TRY_ASSIGN(const json* ratios, r.member(*sizes, sp, "aspect_ratios"));
    TRY_ASSIGN(m.aspect_ratios, r.strings(*ratios, sp));
    for (const auto& a : m.aspect_ratios) {
        if (!is_ratio(a)) {
            return r.bad(sp, "aspect ratio \"" + a + "\" is not W:H");
        }
    }
    TRY_ASSIGN(m.sources["sizes"], r.source(*sizes, sp));

    ModelPrice base;
    const std::vector<std::string> tp{"models", m.id, "image_tokens"};
    TRY_ASSIGN(const json* it, r.member(j, path, "image_tokens"));
    TRY(r.only_keys(*it, tp, {"by_size", "source"}));
    TRY_ASSIGN(const json* by_size, r.member(*it, tp, "by_size"));
    if (!by_size->is_object()) {
        return r.bad(tp, "by_size: expected {\"<size>\": tokens}");
    }
    for (const auto& [size, v] : by_size->items()) {
        auto at = tp;
        at.push_back(size);
        if (!m.offers_size(size) || size.empty()) {
            return r.bad(at, "\"" + size + "\" is not one of the model's sizes");
        }
        TRY_ASSIGN(base.image_tokens[size], r.tokens(v, at));
    }
    for (const auto& s : m.sizes) {
        if (!base.image_tokens.count(s)) {
            return r.bad(tp, "size \"" + s + "\" has no token count");
        }
    }
    base.image_tokens[""] = base.image_tokens[m.default_size];
    TRY_ASSIGN(m.sources["image_tokens"], r.source(*it, tp));

    const std::vector<std::string> rp{"models", m.id, "tokens_per_ref_image"};
    TRY_ASSIGN(const json* refs, r.member(j, path, "tokens_per_ref_image"));
    TRY(r.only_keys(*refs, rp, {"value", "source"}));
    TRY_ASSIGN(const json* rv, r.member(*refs, rp, "value"));
    TRY_ASSIGN(base.tokens_per_ref_image, r.tokens(*rv, rp));
    TRY_ASSIGN(m.sources["tokens_per_ref_image"], r.source(*refs, rp));

    const std::vector<std::string> thp{"models", m.id, "thinking"};
    TRY_ASSIGN(const json* thinking, r.member(j, path, "thinking"));
    TRY(r.only_keys(*thinking, thp, {"max_tokens", "level", "text_allowance_tokens", "source"}));
    TRY_ASSIGN(const json* mt, r.member(*thinking, thp, "max_tokens"));
    TRY_ASSIGN(base.max_thinking_tokens, r.tokens(*mt, thp));
    TRY_ASSIGN(const json* lv, r.member(*thinking, thp, "level"));
    TRY_ASSIGN(base.thinking_level, r.string(*lv, thp));
    TRY_ASSIGN(const json* ta, r.member(*thinking, thp, "text_allowance_tokens"));
    TRY_ASSIGN(base.text_allowance_tokens, r.tokens(*ta, thp));
    TRY_ASSIGN(m.sources["thinking"], r.source(*thinking, thp));

    const std::vector<std::string> pp{"models", m.id, "prices"};
    TRY_ASSIGN(const json* prices, r.member(j, path, "prices"));
    TRY(r.only_keys(*prices, pp, {"standard", "flex", "batch", "priority"}));
    for (Tier t : k_all_tiers) {
        const std::string name(tier_name(t));
        auto at = pp;
        at.push_back(name);
        TRY_ASSIGN(const json* tj, r.member(*prices, pp, name.c_str()));
        ModelPrice p = base;
        TRY(read_price(r, *tj, at, p, m.sources["prices." + name]));
        for (const auto& s : m.sizes) {
            if (!p.per_image.count(s)) {
                return r.bad(at, "per_image has no price for size \"" + s + "\"");
            }
        }
        for (const auto& [size, v] : p.per_image) {
            (void)v;
            if (!m.offers_size(size)) {
                return r.bad(at,
                             "per_image: size \"" + size + "\" is not one of the model's sizes");
            }
        }
        p.per_image[""] = p.per_image[m.default_size];
        m.prices[t] = std::move(p);
    }
    c.models.push_back(std::move(m));
    return util::ok_status();
}

}  // namespace

std::string_view lifecycle_name(Lifecycle l) {
    switch (l) {
        case Lifecycle::preview:
            return "preview";
        case Lifecycle::deprecated:
            return "deprecated";
        case Lifecycle::shutdown:
            return "shutdown";
        case Lifecycle::ga:
            break;
    }
    return "ga";
}

bool CatalogModel::offers_size(const std::string& size) const {
    return size.empty() || std::find(sizes.begin(), sizes.end(), size) != sizes.end();
}

bool CatalogModel::offers_aspect_ratio(const std::string& ratio) const {
    return ratio.empty() ||
           std::find(aspect_ratios.begin(), aspect_ratios.end(), ratio) != aspect_ratios.end();
}

const CatalogModel* Catalog::find(std::string_view id) const {
    if (util::starts_with(id, "models/")) {
        id.remove_prefix(7);
    }
    for (const auto& m : models) {
        if (m.id == id || std::find(m.aliases.begin(), m.aliases.end(), id) != m.aliases.end()) {
            return &m;
        }
    }
    return nullptr;
}

std::size_t json_line_of(const std::string& text, const std::vector<std::string>& path) {
    std::size_t pos = 0;
    for (const auto& name : path) {
        const auto at = text.find("\"" + name + "\"", pos);
        if (at == std::string::npos) {
            return 0;
        }
        pos = at + name.size() + 2;
    }
    return static_cast<std::size_t>(
               std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n')) +
           1;
}

util::Result<Catalog> parse_catalog(const std::string& text, const std::string& where) {
    const json j = json::parse(text, nullptr, false);
    Reader r(text, where);
    if (j.is_discarded() || !j.is_object()) {
        return util::error(
            util::Code::config,
            where + ": not a JSON object (a model catalog is {\"catalog\": 1, \"models\": [...]})");
    }
    TRY(r.only_keys(j, {}, {"catalog", "read", "default_model", "models", "notes"}));
    TRY_ASSIGN(const json* version, r.member(j, {}, "catalog"));
    if (*version != 1) {
        return r.bad({"catalog"}, "version " + version->dump() + " is not 1");
    }
    Catalog c;
    TRY_ASSIGN(const json* read, r.member(j, {}, "read"));
    TRY_ASSIGN(c.read, r.string(*read, {"read"}));
    if (!is_date(c.read)) {
        return r.bad({"read"}, "\"" + c.read + "\" is not a date YYYY-MM-DD");
    }
    TRY_ASSIGN(const json* models, r.member(j, {}, "models"));
    if (!models->is_array() || models->empty()) {
        return r.bad({"models"}, "expected a non-empty list of models");
    }
    for (std::size_t i = 0; i < models->size(); ++i) {
        TRY(read_model(r, (*models)[i], i, c));
    }
    TRY_ASSIGN(const json* def, r.member(j, {}, "default_model"));
    TRY_ASSIGN(c.default_model, r.string(*def, {"default_model"}));
    const CatalogModel* d = c.find(c.default_model);
    if (!d || d->lifecycle == Lifecycle::shutdown) {
        return r.bad(
            {"default_model"},
            "\"" + c.default_model + "\" is not a model of the catalog that is still served");
    }
    TRY_ASSIGN(const json* notes, r.member(j, {}, "notes", false));
    if (notes) {
        TRY_ASSIGN(c.notes, r.strings(*notes, {"notes"}));
    }
    return c;
}

const Catalog& builtin_catalog() {
    // The built-in text is checked by the unit tests; should it ever fail to read, the catalog
    // is empty and every model is "unknown", which refuses runs rather than misprices them.
    static const Catalog c = [] {
        auto parsed = parse_catalog(std::string(builtin_catalog_text()), "models.json (built in)");
        return parsed.ok() ? *parsed : Catalog{};
    }();
    return c;
}

util::Status check_lifecycle(const Catalog& catalog, const std::string& model,
                             const std::string& today, bool allow_retired, std::string& warning) {
    warning.clear();
    const CatalogModel* m = catalog.find(model);
    if (!m || m->lifecycle == Lifecycle::ga || m->lifecycle == Lifecycle::preview) {
        return util::ok_status();
    }
    const std::string instead =
        m->replacement.empty() ? std::string() : "; use " + m->replacement + " instead";
    const bool gone = m->lifecycle == Lifecycle::shutdown ||
                      (!m->lifecycle_date.empty() && m->lifecycle_date <= today);
    if (!gone) {
        warning = "model \"" + m->id + "\" is deprecated: Google shuts it down on " +
                  m->lifecycle_date + instead;
        return util::ok_status();
    }
    const std::string what =
        "model \"" + m->id + "\" was shut down on " + m->lifecycle_date + instead;
    if (allow_retired) {
        warning = what + " (sent anyway: --allow-retired-model)";
        return util::ok_status();
    }
    return util::error(util::Code::config,
                       what + ", or give --allow-retired-model to send it anyway");
}

util::Result<Catalog> load_catalog_file(const std::string& path) {
    auto text = util::read_text_file(path, k_max_catalog_bytes);
    if (!text.ok()) {
        return util::error(util::Code::config,
                           path + ": cannot read the model catalog: " + text.status().message());
    }
    return parse_catalog(*text, path);
}

}  // namespace assetgen::budget
