#include "repeated_exchanges.hpp"

#include <algorithm>

namespace book {
namespace {

std::vector<std::string> sorted_slice(const std::vector<std::string>& keys, std::size_t first, std::size_t length) {
    std::vector<std::string> slice(keys.begin() + static_cast<std::ptrdiff_t>(first),
                                   keys.begin() + static_cast<std::ptrdiff_t>(first + length));
    std::sort(slice.begin(), slice.end());
    return slice;
}

}  // namespace

std::vector<Stretch> find_repeats(const std::vector<std::string>& keys, std::size_t longest) {
    std::vector<Stretch> stretches;
    for (std::size_t at = 0; at < keys.size();) {
        Stretch best{at, 1, 1};
        for (std::size_t length = 1; length <= longest && at + 2 * length <= keys.size(); ++length) {
            const auto pattern = sorted_slice(keys, at, length);
            std::size_t times = 1;
            while (at + (times + 1) * length <= keys.size() &&
                   sorted_slice(keys, at + times * length, length) == pattern)
                ++times;
            // Prefer what covers most exchanges; among equals, the shorter pattern.
            if (times > 1 && times * length > best.times * best.length) best = {at, length, times};
        }
        stretches.push_back(best);
        at += best.length * best.times;
    }
    return stretches;
}

}  // namespace book
