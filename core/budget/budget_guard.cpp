#include "budget/budget_guard.hpp"

#include <algorithm>

#include "util/money.hpp"

namespace assetgen::budget {

MemoryBudget::MemoryBudget(util::Micros limit, util::Micros spent)
    : m_limit(limit), m_spent(spent) {}

bool MemoryBudget::reserve(util::Micros amount) {
    std::unique_lock lock(m_mutex);
    for (;;) {
        if (util::add_sat(util::add_sat(m_spent, m_reserved), amount) <= m_limit) {
            m_reserved += amount;
            return true;
        }
        if (m_reserved == 0) {
            return false;
        }
        m_settled.wait(lock);
    }
}

void MemoryBudget::settle(util::Micros reserved, util::Micros actual) {
    {
        std::lock_guard lock(m_mutex);
        m_reserved -= reserved;
        m_spent = util::add_sat(m_spent, actual);
        m_overshoot = std::max(m_overshoot, m_spent + m_reserved - m_limit);
    }
    m_settled.notify_all();
}

util::Micros MemoryBudget::spent() const {
    std::lock_guard lock(m_mutex);
    return m_spent;
}

util::Micros MemoryBudget::reserved() const {
    std::lock_guard lock(m_mutex);
    return m_reserved;
}

util::Micros MemoryBudget::overshoot() const {
    std::lock_guard lock(m_mutex);
    return std::max<util::Micros>(0, m_overshoot);
}

}  // namespace assetgen::budget
