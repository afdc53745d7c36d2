#include "budget/lease_doc.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "util/json_fields.hpp"
#include "util/money.hpp"

namespace assetgen::budget {
namespace {

constexpr int k_doc_version = 1;

util::Status bad(const std::string& what) {
    return util::error(util::Code::invalid_input, "budget document: " + what);
}

util::Result<std::int64_t> int_at(const nlohmann::json& j, const char* key,
                                  const std::string& where) {
    return util::json_int_at(j, key, where, "budget document");
}

util::Result<std::string> string_at(const nlohmann::json& j, const char* key,
                                    const std::string& where) {
    return util::json_string_at(j, key, where, "budget document");
}

util::Micros outstanding(const std::string& id, const Lease& lease, const LeaseView& view) {
    auto it = view.by_lease.find(id);
    const util::Micros seen = it == view.by_lease.end() ? 0 : it->second;
    return std::max<util::Micros>(0, lease.amount - seen);
}

}  // namespace

std::string to_json(const LeaseDoc& doc) {
    nlohmann::json modes = nlohmann::json::object();
    for (const auto& [name, mode] : doc.modes) {
        nlohmann::json leases = nlohmann::json::object();
        for (const auto& [id, l] : mode.leases) {
            leases[id] = {{"amount_micros", l.amount},
                          {"expires_ms", l.expires_ms},
                          {"granted_ms", l.granted_ms},
                          {"holder", l.holder}};
            if (!l.place.empty()) {
                leases[id]["place"] = l.place;
            }
        }
        modes[name] = {{"limit_micros", mode.limit}, {"leases", std::move(leases)}};
    }
    nlohmann::json j = {{"v", k_doc_version},
                        {"user", doc.user},
                        {"day", doc.day},
                        {"tz", doc.tz},
                        {"updated_ms", doc.updated_ms},
                        {"modes", std::move(modes)}};
    return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

util::Result<LeaseDoc> parse_lease_doc(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return bad("not a JSON object");
    }
    LeaseDoc doc;
    TRY_ASSIGN(const std::int64_t v, int_at(j, "v", ""));
    if (v != k_doc_version) {
        return bad("version " + std::to_string(v) + " is not known to this build (" +
                   std::to_string(k_doc_version) + "); use the newer assetgen");
    }
    TRY_ASSIGN(doc.user, string_at(j, "user", ""));
    TRY_ASSIGN(doc.day, string_at(j, "day", ""));
    TRY_ASSIGN(doc.tz, string_at(j, "tz", ""));
    TRY_ASSIGN(doc.updated_ms, int_at(j, "updated_ms", ""));
    auto modes = j.find("modes");
    if (modes == j.end() || !modes->is_object()) {
        return bad("modes must be an object");
    }
    for (const auto& [name, m] : modes->items()) {
        const std::string where = "modes." + name + ".";
        if (!m.is_object()) {
            return bad(where + " must be an object");
        }
        ModeLeases& mode = doc.modes[name];
        TRY_ASSIGN(mode.limit, int_at(m, "limit_micros", where));
        auto leases = m.find("leases");
        if (leases == m.end() || !leases->is_object()) {
            return bad(where + "leases must be an object");
        }
        for (const auto& [id, l] : leases->items()) {
            const std::string at = where + "leases." + id + ".";
            if (!l.is_object()) {
                return bad(at + " must be an object");
            }
            Lease lease;
            TRY_ASSIGN(lease.amount, int_at(l, "amount_micros", at));
            TRY_ASSIGN(lease.expires_ms, int_at(l, "expires_ms", at));
            TRY_ASSIGN(lease.granted_ms, int_at(l, "granted_ms", at));
            TRY_ASSIGN(lease.holder, string_at(l, "holder", at));
            if (l.contains("place")) {
                TRY_ASSIGN(lease.place, string_at(l, "place", at));
            }
            mode.leases.emplace(id, std::move(lease));
        }
    }
    return doc;
}

bool lease_expired(const Lease& lease, const LeaseView& view) {
    return view.now_ms > lease.expires_ms + view.grace_ms;
}

util::Micros held_by_leases(const ModeLeases& mode, const LeaseView& view,
                            const std::string& except_id) {
    util::Micros held = 0;
    for (const auto& [id, lease] : mode.leases) {
        if (id != except_id && (!lease_expired(lease, view) || !lease.place.empty())) {
            held = util::add_sat(held, outstanding(id, lease, view));
        }
    }
    return held;
}

std::vector<std::pair<std::string, Lease>> release_dead_of_place(ModeLeases& mode,
                                                                 const std::string& place,
                                                                 const std::string& except_id) {
    std::vector<std::pair<std::string, Lease>> out;
    if (place.empty()) {
        return out;
    }
    for (auto it = mode.leases.begin(); it != mode.leases.end();) {
        if (it->first != except_id && it->second.place == place) {
            out.emplace_back(it->first, it->second);
            it = mode.leases.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

LeaseDecision decide(ModeLeases& mode, const LeaseView& view, const LeaseAsk& ask) {
    LeaseDecision d;
    mode.limit = view.limit;
    for (auto it = mode.leases.begin(); it != mode.leases.end();) {
        if (it->first == ask.id || !lease_expired(it->second, view)) {
            ++it;
        } else if (!it->second.place.empty()) {
            // Its holder may have paid for what its place's next run writes back: kept.
            d.dead = util::add_sat(d.dead, outstanding(it->first, it->second, view));
            d.dead_leases.emplace_back(it->first, it->second);
            ++it;
        } else {
            d.reclaimed.emplace_back(it->first, it->second);
            it = mode.leases.erase(it);
        }
    }
    d.others = held_by_leases(mode, view, ask.id) - d.dead;
    auto seen = view.by_lease.find(ask.id);
    const util::Micros mine_seen = seen == view.by_lease.end() ? 0 : seen->second;
    // spent + others + (amount - mine_seen) <= limit, and amount >= in_use.
    const util::Micros cap = view.limit - view.spent - d.others - d.dead + mine_seen;
    d.room = std::max<util::Micros>(0, cap - ask.in_use);
    if (ask.release) {
        mode.leases.erase(ask.id);
        d.amount = 0;
        d.granted = true;
        return d;
    }
    d.granted = d.room >= ask.need;
    d.amount = ask.in_use + (d.granted ? std::min(d.room, std::max(ask.want, ask.need)) : 0);
    Lease& mine = mode.leases[ask.id];
    if (mine.granted_ms == 0) {
        mine.granted_ms = view.now_ms;
    }
    mine.amount = d.amount;
    mine.expires_ms = view.now_ms + ask.ttl_ms;
    mine.holder = ask.holder;
    mine.place = ask.place;
    return d;
}

}  // namespace assetgen::budget
