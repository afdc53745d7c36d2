// Prices are micro-dollars per million tokens, so that per-token arithmetic stays in integers:
// cost(µ$) = tokens × price(µ$/Mtok) / 1e6, rounded up to the next micro-dollar (a budget must
// never under-count). Sources and dates of the built-in numbers: README.md, "Prices".
#include "budget/prices.hpp"

#include <nlohmann/json.hpp>

namespace assetgen::budget {
namespace {

util::Micros tokens_cost(std::int64_t tokens, util::Micros per_mtok) {
    if (tokens <= 0 || per_mtok <= 0) {
        return 0;
    }
    // ceil(tokens × per_mtok / 10^6) without overflow: split tokens into millions and the rest.
    const std::int64_t millions = tokens / 1'000'000;
    const std::int64_t rest = tokens % 1'000'000;
    return millions * per_mtok + (rest * per_mtok + 999'999) / 1'000'000;
}

std::int64_t prompt_tokens_estimate(const RequestShape& shape, const ModelPrice& p) {
    // About four bytes of English a token, plus the ref_mode instruction (under 60 tokens).
    auto text = static_cast<std::int64_t>((shape.prompt_bytes + 3) / 4) + 60;
    return text + static_cast<std::int64_t>(shape.ref_images) * p.tokens_per_ref_image;
}

template <typename T>
T pick(const std::map<std::string, T>& by_size, const std::string& size, T fallback) {
    auto it = by_size.find(size);
    if (it != by_size.end()) {
        return it->second;
    }
    it = by_size.find("");
    return it != by_size.end() ? it->second : fallback;
}

util::Micros dollars_per_mtok(double d) { return util::to_micros(d); }

}  // namespace

PriceTable PriceTable::builtin() {
    PriceTable t;
    ModelPrice flash;
    flash.input_per_mtok = dollars_per_mtok(0.30);
    flash.output_image_per_mtok = dollars_per_mtok(30.0);
    flash.output_text_per_mtok = dollars_per_mtok(2.50);
    flash.per_image = {{"", util::to_micros(0.039)}};
    flash.image_tokens = {{"", 1290}};
    flash.tokens_per_ref_image = 258;
    t.m_models["gemini-2.5-flash-image"] = flash;
    t.m_models["gemini-2.5-flash-image-preview"] = flash;

    ModelPrice pro;
    pro.input_per_mtok = dollars_per_mtok(2.00);
    pro.output_image_per_mtok = dollars_per_mtok(120.0);
    pro.output_text_per_mtok = dollars_per_mtok(12.0);
    pro.per_image = {{"", util::to_micros(0.134)}, {"1K", util::to_micros(0.134)},
                     {"2K", util::to_micros(0.134)}, {"4K", util::to_micros(0.24)}};
    pro.image_tokens = {{"", 1120}, {"1K", 1120}, {"2K", 1120}, {"4K", 2000}};
    pro.tokens_per_ref_image = 560;
    pro.max_thinking_tokens = 2000;
    t.m_models["gemini-3-pro-image"] = pro;
    t.m_models["gemini-3-pro-image-preview"] = pro;

    ModelPrice flash31;
    flash31.input_per_mtok = dollars_per_mtok(0.50);
    flash31.output_image_per_mtok = dollars_per_mtok(60.0);
    flash31.output_text_per_mtok = dollars_per_mtok(3.0);
    flash31.per_image = {{"", util::to_micros(0.067)},  {"512", util::to_micros(0.045)},
                         {"1K", util::to_micros(0.067)}, {"2K", util::to_micros(0.101)},
                         {"4K", util::to_micros(0.151)}};
    flash31.image_tokens = {{"", 1120}, {"512", 747}, {"1K", 1120}, {"2K", 1680}, {"4K", 2520}};
    flash31.tokens_per_ref_image = 258;
    flash31.max_thinking_tokens = 2000;
    t.m_models["gemini-3.1-flash-image"] = flash31;
    t.m_models["gemini-3.1-flash-image-preview"] = flash31;
    return t;
}

util::Status PriceTable::load_json(const std::string& text, const std::string& where) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("models") || !j["models"].is_object()) {
        return util::error(util::Code::invalid_input,
                           where + ": expected {\"models\": {\"<model>\": {...}}}");
    }
    for (const auto& [name, m] : j["models"].items()) {
        const std::string at = where + ": models." + name;
        if (!m.is_object()) {
            return util::error(util::Code::invalid_input, at + ": expected an object");
        }
        ModelPrice p = m_models.count(name) ? m_models[name] : ModelPrice{};
        for (const auto& [key, value] : m.items()) {
            auto number = [&](double& out) -> util::Status {
                if (!value.is_number() || value.get<double>() < 0) {
                    return util::error(util::Code::invalid_input,
                                       at + "." + key + ": expected a number >= 0");
                }
                out = value.get<double>();
                return util::ok_status();
            };
            double d = 0;
            if (key == "input_per_mtok") {
                TRY(number(d));
                p.input_per_mtok = dollars_per_mtok(d);
            } else if (key == "output_image_per_mtok") {
                TRY(number(d));
                p.output_image_per_mtok = dollars_per_mtok(d);
            } else if (key == "output_text_per_mtok") {
                TRY(number(d));
                p.output_text_per_mtok = dollars_per_mtok(d);
            } else if (key == "tokens_per_ref_image") {
                TRY(number(d));
                p.tokens_per_ref_image = static_cast<std::int64_t>(d);
            } else if (key == "max_thinking_tokens") {
                TRY(number(d));
                p.max_thinking_tokens = static_cast<std::int64_t>(d);
            } else if (key == "per_image" || key == "image_tokens") {
                if (!value.is_object()) {
                    return util::error(util::Code::invalid_input,
                                       at + "." + key + ": expected {\"<size>\": number}");
                }
                for (const auto& [size, v] : value.items()) {
                    if (!v.is_number() || v.get<double>() < 0) {
                        return util::error(util::Code::invalid_input,
                                           at + "." + key + "." + size + ": expected a number >= 0");
                    }
                    if (key == "per_image") {
                        p.per_image[size] = util::to_micros(v.get<double>());
                    } else {
                        p.image_tokens[size] = static_cast<std::int64_t>(v.get<double>());
                    }
                }
            } else {
                return util::error(util::Code::invalid_input, at + ": unknown key \"" + key + "\"");
            }
        }
        if (p.per_image.empty() && p.image_tokens.empty()) {
            return util::error(util::Code::invalid_input,
                               at + ": needs per_image or image_tokens to price an image");
        }
        m_models[name] = p;
    }
    return util::ok_status();
}

void PriceTable::set_price_per_image(util::Micros price) { m_price_per_image = price; }

util::Result<const ModelPrice*> PriceTable::find(const std::string& model) const {
    auto it = m_models.find(model);
    if (it == m_models.end()) {
        std::string known;
        for (const auto& [name, p] : m_models) {
            known += (known.empty() ? "" : ", ") + name;
        }
        return util::error(util::Code::config,
                           "model \"" + model + "\" has no price (known: " + known +
                               "); give one with --prices FILE.json or --price-per-image");
    }
    return &it->second;
}

util::Result<util::Micros> PriceTable::estimate(const RequestShape& shape) const {
    TRY_ASSIGN(const ModelPrice* p, find(shape.model));
    util::Micros image = 0;
    if (m_price_per_image) {
        image = *m_price_per_image;
    } else if (!p->per_image.empty()) {
        image = pick<util::Micros>(p->per_image, shape.image_size, 0);
    } else {
        image = tokens_cost(pick<std::int64_t>(p->image_tokens, shape.image_size, 0),
                            p->output_image_per_mtok);
    }
    return image + tokens_cost(prompt_tokens_estimate(shape, *p), p->input_per_mtok);
}

util::Result<util::Micros> PriceTable::worst_case(const RequestShape& shape) const {
    TRY_ASSIGN(util::Micros est, estimate(shape));
    TRY_ASSIGN(const ModelPrice* p, find(shape.model));
    util::Micros image_by_tokens = tokens_cost(pick<std::int64_t>(p->image_tokens, shape.image_size, 0),
                                               p->output_image_per_mtok);
    util::Micros input = tokens_cost(prompt_tokens_estimate(shape, *p), p->input_per_mtok);
    // The worst case covers whichever way the image is billed, the input twice over (token
    // counts are estimates), and the thinking allowance.
    util::Micros worst = std::max(est, image_by_tokens + input) + input +
                         tokens_cost(p->max_thinking_tokens, p->output_text_per_mtok);
    if (m_price_per_image) {
        worst = est + input + tokens_cost(p->max_thinking_tokens, p->output_text_per_mtok);
    }
    return worst;
}

util::Result<util::Micros> PriceTable::actual(const std::string& model, const std::string& image_size,
                                              std::int64_t prompt_tokens, std::int64_t output_tokens,
                                              std::int64_t thoughts_tokens) const {
    TRY_ASSIGN(const ModelPrice* p, find(model));
    util::Micros out = 0;
    if (m_price_per_image) {
        out = output_tokens > 0 ? *m_price_per_image : 0;
    } else {
        out = tokens_cost(output_tokens, p->output_image_per_mtok);
    }
    (void)image_size;
    return out + tokens_cost(prompt_tokens, p->input_per_mtok) +
           tokens_cost(thoughts_tokens, p->output_text_per_mtok);
}

}  // namespace assetgen::budget
